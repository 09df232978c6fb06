//! Input files through the order contracts (CSV rows, JSONL with nested
//! lines, two '|'-separated files joined by key): every record is accepted
//! or rejected, never a panic, and a reject names a line of its file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use triglot_pipeline::contract::Contract;

const PAIR: &str = include_str!("../../examples/foreign-layout/contract.toml");

fuzz_target!(|data: &[u8]| {
    let Some((&pick, input)) = data.split_first() else { return };
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let (contract, files) = match pick % 3 {
        0 => (Contract::builtin_csv(), vec![write("orders.csv", input)]),
        1 => (Contract::builtin_jsonl(), vec![write("orders.jsonl", input)]),
        _ => {
            // The two files, split at the first form feed.
            let at = input.iter().position(|&b| b == 0x0c).unwrap_or(input.len());
            let lines = input.get(at + 1..).unwrap_or_default();
            let contract = Contract::from_toml(PAIR, "pair.toml").unwrap();
            (contract, vec![write("orders.txt", &input[..at]), write("lines.txt", lines)])
        }
    };
    // A small sort budget, so that joins spill to disk.
    let Ok(decided) = triglot_pipeline::ingest::decide(&contract, &files, 4 << 10) else { return };
    // No file has more lines than the whole input.
    let lines = input.split(|&b| b == b'\n').count() as u64;
    for reject in &decided.rejects {
        assert!(reject.line <= lines, "{reject:?}");
        assert!(!reject.reason.is_empty());
    }
});
