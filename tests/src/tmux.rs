//! A real terminal for end-to-end tests: a tmux session running a command,
//! keys sent to it and its screen read back.

use std::process::Command;
use std::time::{Duration, Instant};

/// Whether tmux is here; under CI it must be (the test fails instead of
/// skipping).
pub fn available() -> bool {
    if Command::new("tmux").arg("-V").output().is_ok() {
        return true;
    }
    assert!(
        !std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
        "CI is set but tmux is missing: the end-to-end tests must run"
    );
    eprintln!("SKIP: tmux end-to-end test skipped, tmux is not installed");
    false
}

pub struct Tmux {
    pub session: String,
}

impl Tmux {
    /// Starts `command` (run by the shell) in a detached `cols`×`rows` window.
    pub fn start(name: &str, cols: u16, rows: u16, command: &str, env: &[(&str, &str)]) -> Tmux {
        let session = format!("cd-{name}-{}", std::process::id());
        let mut args: Vec<String> = vec![
            "new-session".into(),
            "-d".into(),
            "-s".into(),
            session.clone(),
            "-x".into(),
            cols.to_string(),
            "-y".into(),
            rows.to_string(),
        ];
        for (k, v) in env {
            args.push("-e".into());
            args.push(format!("{k}={v}"));
        }
        // The pane stays after the command ends, so its last words can be read.
        args.push(format!("{command}; sleep 600"));
        let out = Command::new("tmux").args(&args).output().expect("run tmux");
        assert!(
            out.status.success(),
            "tmux: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmux { session }
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux").args(args).output().expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Keys as tmux names them (`Enter`, `Escape`, `C-c`) or literal text.
    pub fn send(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", self.session.as_str()];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Text typed as it is (no key names).
    pub fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-l", "-t", &self.session, text]);
    }

    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", &self.session])
    }

    pub fn resize(&self, cols: u16, rows: u16) {
        self.run(&[
            "resize-window",
            "-t",
            &self.session,
            "-x",
            &cols.to_string(),
            "-y",
            &rows.to_string(),
        ]);
    }

    /// Waits until the screen shows `text`; panics with the screen if not.
    pub fn wait_for(&self, text: &str) -> String {
        self.wait_until(text, |screen| screen.contains(text))
    }

    /// Waits until `check` holds for the screen; `what` names it on failure.
    pub fn wait_until(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        // Generous: a busy CI machine is slow; a pass is fast.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let screen = self.screen();
            if check(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what:?}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Ends the session at once: the programs in it get SIGHUP, as when a
    /// township line drops and the terminal window is closed.
    pub fn kill(&self) {
        self.run(&["kill-session", "-t", &self.session]);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .output();
    }
}
