//! Threshold files of the order report and of the flow's quality report.
#![no_main]

use libfuzzer_sys::fuzz_target;
use triglot_pipeline::flow::QualityConfig;
use triglot_pipeline::report::Thresholds;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = Thresholds::from_toml(text, "fuzz.toml");
    let _ = QualityConfig::from_toml(text, "fuzz.toml");
});
