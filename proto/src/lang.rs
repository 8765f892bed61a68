//! The two interface languages. Simplified Chinese is the default everywhere.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// Reads a language tag such as `zh-CN`, `en`, `en-US`; anything that is
    /// not English falls back to Chinese.
    pub fn from_tag(tag: &str) -> Lang {
        let tag = tag.trim().to_ascii_lowercase();
        if tag == "en" || tag.starts_with("en-") || tag.starts_with("en_") {
            Lang::En
        } else {
            Lang::Zh
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// Picks one of two translations.
    pub fn pick<T>(self, zh: T, en: T) -> T {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// gRPC metadata key with which the client asks for its language.
pub const LANG_METADATA_KEY: &str = "accept-language";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        assert_eq!(Lang::from_tag("en"), Lang::En);
        assert_eq!(Lang::from_tag("EN-us"), Lang::En);
        assert_eq!(Lang::from_tag("zh-CN"), Lang::Zh);
        assert_eq!(Lang::from_tag(""), Lang::Zh);
        assert_eq!(Lang::from_tag("english"), Lang::Zh);
        assert_eq!(Lang::from_tag(Lang::En.tag()), Lang::En);
    }
}
