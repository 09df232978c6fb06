//! Flow contracts bound to the order schema: any text is a flow or an
//! error with its line, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use triglot_pipeline::flow::Flow;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = Flow::check(text, "fuzz.toml");
    let _ = Flow::bind(text, "fuzz.toml", &triglot_pipeline::model_schema());
});
