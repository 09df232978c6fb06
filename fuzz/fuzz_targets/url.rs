//! Database URLs: parsing never panics, and the password is in no display of
//! the URL and in no error about it, whatever characters it holds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use triglot::DatabaseUrl;

/// Everything triglot shows of a URL: its displays, and errors about it.
fn shown(raw: &str) -> Vec<String> {
    let mut out = vec![triglot::redact(raw)];
    match DatabaseUrl::parse(raw) {
        Ok(url) => out.extend([
            url.to_string(),
            format!("{url:?}"),
            url.redacted().to_owned(),
            url.scrub(&format!("connect failed for {raw}")),
        ]),
        Err(err) => out.extend([err.to_string(), format!("{err:?}")]),
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = shown(text);
    // The input after its first line is a password; the first line, the rest
    // of the URL.
    let Some((rest, password)) = text.split_once('\n') else { return };
    if password.chars().count() < 8 {
        return;
    }
    for scheme in ["postgres", "mysql"] {
        // What is shown with a plain password in its place: a password that
        // is part of that anyway (the rest of the URL, the mask, the error's
        // wording) proves nothing.
        let reference = shown(&format!("{scheme}://app:Zq9Zq9Zq9@{rest}")).join("\n");
        for (n, s) in shown(&format!("{scheme}://app:{password}@{rest}")).iter().enumerate() {
            // The message names the output, never the password: the crash
            // input file holds it.
            assert!(
                !s.contains(password) || reference.contains(password),
                "output {n} of {scheme} shows the password"
            );
        }
    }
});
