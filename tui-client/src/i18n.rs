//! Every string the workstation shows, in one catalogue: Simplified Chinese
//! first, English with `--lang en`. Screens take `&Catalogue` and never
//! spell user-facing text themselves.

use credit_desk_proto::Lang;
use credit_desk_proto::pb::{OrgUnitKind, Role};

pub struct Catalogue {
    pub app_title: &'static str,
    // Login
    pub login_title: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub login_hint: &'static str,
    pub demo_accounts: &'static str,
    pub demo_password: &'static str,
    pub logging_in: &'static str,
    // Menu
    pub menu_title: &'static str,
    pub menu_change_password: &'static str,
    pub menu_org_units: &'static str,
    pub menu_operators: &'static str,
    pub menu_logout: &'static str,
    pub menu_hint: &'static str,
    pub operator: &'static str,
    pub org_unit: &'static str,
    pub role: &'static str,
    // Password change
    pub password_title: &'static str,
    pub password_forced: &'static str,
    pub current_password: &'static str,
    pub new_password: &'static str,
    pub confirm_password: &'static str,
    pub passwords_differ: &'static str,
    pub password_changed: &'static str,
    // Org units
    pub org_units_title: &'static str,
    pub code: &'static str,
    pub name: &'static str,
    pub kind: &'static str,
    pub parent: &'static str,
    pub new_org_unit: &'static str,
    pub org_unit_created: &'static str,
    // Operators
    pub operators_title: &'static str,
    pub display_name: &'static str,
    pub state: &'static str,
    pub enabled: &'static str,
    pub disabled: &'static str,
    pub locked: &'static str,
    pub must_change: &'static str,
    pub new_operator: &'static str,
    pub initial_password: &'static str,
    pub operator_created: &'static str,
    pub reset_password_title: &'static str,
    pub password_reset_done: &'static str,
    pub search: &'static str,
    pub more_pages: &'static str,
    pub confirm_disable: &'static str,
    pub confirm_enable: &'static str,
    pub operator_updated: &'static str,
    // Common
    pub loading: &'static str,
    pub empty: &'static str,
    pub choose_hint: &'static str,
    pub form_hint: &'static str,
    pub list_hint_org_units: &'static str,
    pub list_hint_operators: &'static str,
    pub yes_no: &'static str,
    pub help_title: &'static str,
    pub help_close: &'static str,
    pub help_keys: &'static [(&'static str, &'static str)],
    // Status bar
    pub status_server: &'static str,
    pub status_rtt: &'static str,
    pub status_connected: &'static str,
    pub status_down: &'static str,
    pub status_help: &'static str,
    pub error_unreachable: &'static str,
    pub error_session_ended: &'static str,
    pub cancelled: &'static str,
}

pub static ZH: Catalogue = Catalogue {
    app_title: "综合征信中心 · 业务工作站",
    login_title: "操作员登录",
    username: "用户名",
    password: "密码",
    login_hint: "Tab 切换  Enter 登录  F1 帮助  Ctrl-C 退出",
    demo_accounts: "演示账号",
    demo_password: "演示密码",
    logging_in: "正在登录…",
    menu_title: "主菜单",
    menu_change_password: "修改本人密码",
    menu_org_units: "机构管理",
    menu_operators: "操作员管理",
    menu_logout: "退出登录",
    menu_hint: "↑↓ 选择  Enter 进入  字母键直达  F1 帮助",
    operator: "操作员",
    org_unit: "所属机构",
    role: "角色",
    password_title: "修改密码",
    password_forced: "首次登录或密码已被重置，请先设置自己的密码。",
    current_password: "原密码",
    new_password: "新密码",
    confirm_password: "确认新密码",
    passwords_differ: "两次输入的新密码不一致",
    password_changed: "密码已修改",
    org_units_title: "机构管理",
    code: "代码",
    name: "名称",
    kind: "类型",
    parent: "上级机构",
    new_org_unit: "新建下级机构",
    org_unit_created: "机构已创建",
    operators_title: "操作员管理",
    display_name: "姓名",
    state: "状态",
    enabled: "启用",
    disabled: "停用",
    locked: "锁定",
    must_change: "待改密",
    new_operator: "新建操作员",
    initial_password: "初始密码",
    operator_created: "操作员已创建，首次登录须修改密码",
    reset_password_title: "重置密码",
    password_reset_done: "密码已重置，该操作员下次登录须修改密码",
    search: "查找",
    more_pages: "PgDn 下一页",
    confirm_disable: "停用该操作员并结束其会话？(y/n)",
    confirm_enable: "重新启用该操作员？(y/n)",
    operator_updated: "已更新",
    loading: "加载中…",
    empty: "（无）",
    choose_hint: "←→ 选择",
    form_hint: "Tab/Shift-Tab 切换  ←→ 选择  Enter 提交  Esc 返回",
    list_hint_org_units: "↑↓ 选择  n 新建下级  r 刷新  Esc 返回",
    list_hint_operators: "↑↓ 选择  n 新建  d 停用/启用  p 重置密码  / 查找  r 刷新  Esc 返回",
    yes_no: "y 确认 / n 取消",
    help_title: "按键帮助",
    help_close: "任意键关闭",
    help_keys: &[
        ("F1 / ?", "打开或关闭本帮助"),
        ("Tab / Shift-Tab", "在输入项之间切换"),
        ("↑ ↓", "在列表或菜单中移动"),
        ("← →", "在选项中切换"),
        ("Enter", "提交 / 进入"),
        ("Esc", "返回上一屏 / 取消等待中的请求"),
        ("字母键", "菜单与列表中的快捷操作"),
        ("PgUp PgDn", "翻页"),
        ("Ctrl-C", "退出工作站"),
    ],
    status_server: "服务器",
    status_rtt: "往返",
    status_connected: "已连接",
    status_down: "连接中断",
    status_help: "F1 帮助",
    error_unreachable: "无法连接服务器，正在重试；已输入的内容会保留",
    error_session_ended: "会话已结束，请重新登录",
    cancelled: "已取消",
};

pub static EN: Catalogue = Catalogue {
    app_title: "Credit Information Center · Workstation",
    login_title: "Operator login",
    username: "Username",
    password: "Password",
    login_hint: "Tab next field  Enter log in  F1 help  Ctrl-C quit",
    demo_accounts: "Demo accounts",
    demo_password: "Demo password",
    logging_in: "Logging in…",
    menu_title: "Main menu",
    menu_change_password: "Change my password",
    menu_org_units: "Org units",
    menu_operators: "Operators",
    menu_logout: "Log out",
    menu_hint: "↑↓ select  Enter open  letter keys jump  F1 help",
    operator: "Operator",
    org_unit: "Org unit",
    role: "Role",
    password_title: "Change password",
    password_forced: "First login or password reset: choose your own password first.",
    current_password: "Current password",
    new_password: "New password",
    confirm_password: "Repeat new password",
    passwords_differ: "the two new passwords differ",
    password_changed: "Password changed",
    org_units_title: "Org units",
    code: "Code",
    name: "Name",
    kind: "Kind",
    parent: "Parent",
    new_org_unit: "New unit below",
    org_unit_created: "Org unit created",
    operators_title: "Operators",
    display_name: "Name",
    state: "State",
    enabled: "enabled",
    disabled: "disabled",
    locked: "locked",
    must_change: "must change pw",
    new_operator: "New operator",
    initial_password: "Initial password",
    operator_created: "Operator created; they must change the password at first login",
    reset_password_title: "Reset password",
    password_reset_done: "Password reset; the operator must change it at next login",
    search: "Find",
    more_pages: "PgDn next page",
    confirm_disable: "Disable this operator and end their sessions? (y/n)",
    confirm_enable: "Enable this operator again? (y/n)",
    operator_updated: "Updated",
    loading: "Loading…",
    empty: "(none)",
    choose_hint: "←→ choose",
    form_hint: "Tab/Shift-Tab move  ←→ choose  Enter submit  Esc back",
    list_hint_org_units: "↑↓ select  n new below  r refresh  Esc back",
    list_hint_operators: "↑↓ select  n new  d disable/enable  p reset pw  / find  r refresh  Esc back",
    yes_no: "y confirm / n cancel",
    help_title: "Keys",
    help_close: "any key closes",
    help_keys: &[
        ("F1 / ?", "open or close this help"),
        ("Tab / Shift-Tab", "move between fields"),
        ("↑ ↓", "move in lists and menus"),
        ("← →", "change a choice"),
        ("Enter", "submit / open"),
        ("Esc", "back / cancel a waiting request"),
        ("letters", "shortcuts in menus and lists"),
        ("PgUp PgDn", "page"),
        ("Ctrl-C", "quit the workstation"),
    ],
    status_server: "Server",
    status_rtt: "RTT",
    status_connected: "connected",
    status_down: "link down",
    status_help: "F1 help",
    error_unreachable: "Cannot reach the server; retrying. Your input is kept.",
    error_session_ended: "The session has ended; log in again",
    cancelled: "Cancelled",
};

pub fn catalogue(lang: Lang) -> &'static Catalogue {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

pub fn role_name(lang: Lang, role: Role) -> &'static str {
    match (lang, role) {
        (Lang::Zh, Role::Counter) => "柜台经办员",
        (Lang::Zh, Role::Center) => "中心业务员",
        (Lang::Zh, Role::Liaison) => "部门联络员",
        (Lang::Zh, Role::Bank) => "金融机构查询员",
        (Lang::Zh, Role::Supervisor) => "主管/审计",
        (Lang::Zh, Role::Admin) => "系统管理员",
        (Lang::En, Role::Counter) => "counter clerk",
        (Lang::En, Role::Center) => "center clerk",
        (Lang::En, Role::Liaison) => "dept. liaison",
        (Lang::En, Role::Bank) => "bank officer",
        (Lang::En, Role::Supervisor) => "supervisor",
        (Lang::En, Role::Admin) => "administrator",
        (_, Role::Unspecified) => "-",
    }
}

pub fn kind_name(lang: Lang, kind: OrgUnitKind) -> &'static str {
    match (lang, kind) {
        (Lang::Zh, OrgUnitKind::Center) => "中心",
        (Lang::Zh, OrgUnitKind::Township) => "乡镇",
        (Lang::Zh, OrgUnitKind::VillageStation) => "村服务站",
        (Lang::Zh, OrgUnitKind::Department) => "部门",
        (Lang::Zh, OrgUnitKind::Bank) => "银行",
        (Lang::En, OrgUnitKind::Center) => "center",
        (Lang::En, OrgUnitKind::Township) => "township",
        (Lang::En, OrgUnitKind::VillageStation) => "village station",
        (Lang::En, OrgUnitKind::Department) => "department",
        (Lang::En, OrgUnitKind::Bank) => "bank",
        (_, OrgUnitKind::Unspecified) => "-",
    }
}

/// "Retrying in N s (attempt k)".
pub fn retrying(lang: Lang, attempt: u32, secs: u64) -> String {
    lang.pick(
        format!("第 {attempt} 次重试，{secs} 秒后"),
        format!("retry {attempt} in {secs} s"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogues_have_the_same_help() {
        assert_eq!(ZH.help_keys.len(), EN.help_keys.len());
        assert!(
            ZH.help_keys
                .iter()
                .zip(EN.help_keys)
                .all(|(z, e)| z.0 == e.0 || z.0 == "字母键")
        );
    }

    #[test]
    fn every_role_and_kind_has_a_name() {
        for lang in [Lang::Zh, Lang::En] {
            for r in 1..=6 {
                assert_ne!(role_name(lang, Role::try_from(r).unwrap()), "-");
            }
            for k in 1..=5 {
                assert_ne!(kind_name(lang, OrgUnitKind::try_from(k).unwrap()), "-");
            }
        }
    }
}
