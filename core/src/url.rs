//! Database URLs that never show their password.

use std::fmt;

/// A database URL as given by the user, with a redacted form for display.
///
/// `Display` and `Debug` both print the redacted form: the password in the
/// user-info part and any `password=` query parameter become `***`. The
/// original text is reachable only through [`DatabaseUrl::expose`], which the
/// dialects call when they hand the URL to their driver.
///
/// # Example
///
/// ```
/// use triglot_core::DatabaseUrl;
///
/// let url = DatabaseUrl::parse("postgres://app:s3cret@db.local/shop").unwrap();
/// assert_eq!(url.scheme(), "postgres");
/// assert_eq!(url.to_string(), "postgres://app:***@db.local/shop");
/// assert!(!format!("{url:?}").contains("s3cret"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    raw: String,
    redacted: String,
    scheme_len: usize,
}

impl DatabaseUrl {
    /// Parses the scheme of `raw` and computes its redacted form.
    ///
    /// Only the scheme is checked here; each dialect validates the rest of
    /// the URL in its own terms.
    ///
    /// # Errors
    ///
    /// Returns [`crate::error::Error::InvalidUrl`] when `raw` has no `scheme:` prefix.
    pub fn parse(raw: &str) -> crate::error::Result<Self> {
        let redacted = redact(raw);
        let scheme_len = raw
            .find(':')
            .filter(|&n| n > 0 && raw[..n].chars().all(|c| c.is_ascii_alphanumeric() || c == '+'))
            .ok_or_else(|| crate::error::Error::InvalidUrl {
                url: redacted.clone(),
                reason:
                    "a database URL starts with a scheme such as sqlite://, mysql:// or postgres://"
                        .into(),
            })?;
        Ok(Self { raw: raw.to_owned(), redacted, scheme_len })
    }

    /// The scheme in lower case, without `:` or `//` (`"sqlite"`, `"postgres"`).
    pub fn scheme(&self) -> String {
        self.raw[..self.scheme_len].to_ascii_lowercase()
    }

    /// Everything after `scheme:`, with a leading `//` removed.
    pub fn rest(&self) -> &str {
        let rest = &self.raw[self.scheme_len + 1..];
        rest.strip_prefix("//").unwrap_or(rest)
    }

    /// The URL with its password, for handing to a driver only.
    ///
    /// Never log or display the result.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// The URL with its password replaced by `***`.
    pub fn redacted(&self) -> &str {
        &self.redacted
    }

    /// Replaces every occurrence of this URL's password in `text` by `***`.
    ///
    /// Driver messages are passed through this before they reach an error, so
    /// a driver that echoes its connection string cannot leak the secret.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.replace(&self.raw, &self.redacted);
        for secret in secrets(&self.raw) {
            // One-character passwords would blank out ordinary text; they are
            // still removed from the URL itself above.
            if secret.len() > 1 {
                out = out.replace(secret, "***");
            }
        }
        out
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DatabaseUrl").field(&self.redacted).finish()
    }
}

/// Returns `url` with its password (user-info and `password=` parameters) replaced by `***`.
///
/// Works on any scheme and on text that is not a well-formed URL, so it can
/// be applied to whatever a user typed.
///
/// # Example
///
/// ```
/// assert_eq!(
///     triglot_core::redact("mysql://root:pw@127.0.0.1/test?password=pw2&ssl_mode=required"),
///     "mysql://root:***@127.0.0.1/test?password=***&ssl_mode=required"
/// );
/// ```
pub fn redact(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    // The password ends at the user-info's `@`, wherever `/` or `?` stand
    // inside it (users type such passwords unencoded): find it first.
    let after = match userinfo_password(url) {
        Some((start, end)) => {
            out.push_str(&url[..start]);
            out.push_str("***");
            end
        }
        None => 0,
    };
    let rest = &url[after..];
    let (head, query) = match rest.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (rest, None),
    };
    out.push_str(head);
    if let Some(query) = query {
        out.push('?');
        for (i, pair) in query.split('&').enumerate() {
            if i > 0 {
                out.push('&');
            }
            match pair.split_once('=') {
                Some((key, _)) if is_secret_key(key) => {
                    out.push_str(key);
                    out.push_str("=***");
                }
                _ => out.push_str(pair),
            }
        }
    }
    out
}

fn is_secret_key(key: &str) -> bool {
    matches!(key.to_ascii_lowercase().as_str(), "password" | "pass" | "pwd" | "sslpassword")
}

/// Byte range of the password inside `scheme://user:password@host…`.
///
/// A password typed unencoded may hold `/`, `?`, `#`, `@` and text that looks
/// like a host, so the user-info ends at the last `@` of all. From an odd URL
/// (an `@` in a query value) that takes more than the password, never less.
fn userinfo_password(url: &str) -> Option<(usize, usize)> {
    let start = url.find("://")? + 3;
    let rest = &url[start..];
    let at = rest.rfind('@')?;
    let colon = rest[..at].find(':')?;
    Some((start + colon + 1, start + at))
}

fn secrets(url: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let after = match userinfo_password(url) {
        Some((start, end)) => {
            found.push(&url[start..end]);
            end
        }
        None => 0,
    };
    let query = url[after..].split_once('?').map_or("", |(_, q)| q);
    for pair in query.split('&') {
        if let Some((key, value)) = pair.split_once('=')
            && is_secret_key(key)
        {
            found.push(value);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asserts that `url` is shown as `expected`; a failure prints only what
    /// was expected: the result may hold the password.
    fn redacts(url: &str, expected: &str) {
        assert!(redact(url) == expected, "the redacted form differs from {expected}");
    }

    #[test]
    fn password_in_userinfo_is_replaced() {
        redacts("postgres://u:p%40ss@h:5432/db", "postgres://u:***@h:5432/db");
        redacts("mysql://root@127.0.0.1/test", "mysql://root@127.0.0.1/test");
        redacts("sqlite:///tmp/x.db", "sqlite:///tmp/x.db");
        redacts("sqlite::memory:", "sqlite::memory:");
    }

    #[test]
    fn a_password_before_an_empty_or_broken_host_is_replaced() {
        redacts("postgres://u:s3cret@", "postgres://u:***@");
        redacts("mysql://u:s3/cr?et@[::1/db", "mysql://u:***@[::1/db");
        redacts("postgres://u:s3cret@/db", "postgres://u:***@/db");
    }

    #[test]
    fn password_with_at_sign_is_replaced_whole() {
        redacts("postgres://u:a@b@h/db", "postgres://u:***@h/db");
        // Found by fuzzing: a password holding `@` and a host-like text.
        redacts("postgres://u:@::?:?z@?", "postgres://u:***@?");
    }

    #[test]
    fn password_with_slash_and_question_mark_is_replaced_whole() {
        let url = "postgres://app:pa/ss?w0rd@127.0.0.1:1/db";
        redacts(url, "postgres://app:***@127.0.0.1:1/db");
        let parsed = DatabaseUrl::parse(url).unwrap();
        assert!(!parsed.scrub(&format!("refused: {url} (pa/ss?w0rd)")).contains("w0rd"));
        redacts("mysql://u:p?a=b&password=x@h/db?password=y", "mysql://u:***@h/db?password=***");
    }

    #[test]
    fn password_query_parameter_is_replaced() {
        redacts(
            "postgres://h/db?user=u&password=secret&sslmode=disable",
            "postgres://h/db?user=u&password=***&sslmode=disable",
        );
    }

    #[test]
    fn scrub_removes_password_from_driver_text() -> crate::error::Result<()> {
        let url = DatabaseUrl::parse("mysql://root:hunter2@h/db")?;
        let text = url.scrub("could not connect to mysql://root:hunter2@h/db (hunter2)");
        assert!(!text.contains("hunter2"), "{}", text.replace("hunter2", "***"));
        Ok(())
    }

    #[test]
    fn scheme_and_rest_are_split() -> crate::error::Result<()> {
        let url = DatabaseUrl::parse("SQLite://data/x.db")?;
        assert_eq!(url.scheme(), "sqlite");
        assert_eq!(url.rest(), "data/x.db");
        assert_eq!(DatabaseUrl::parse("sqlite::memory:")?.rest(), ":memory:");
        assert!(DatabaseUrl::parse("no-scheme-here").is_err());
        Ok(())
    }
}
