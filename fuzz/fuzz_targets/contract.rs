//! Contract files of both engines: any text is a contract or an error with
//! its line, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use triglot_pipeline::contract::Contract;
use triglot_pipeline::flow::Flow;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = Contract::from_toml(text, "fuzz.toml");
    let _ = Flow::bind(text, "fuzz.toml", &triglot_pipeline::model_schema());
});
