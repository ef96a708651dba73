//! `skilang schema`: the language as a JSON Schema that editors validate specs with. It must accept
//! every example and refuse an unknown key wherever the checker refuses one.

use serde_json::Value;
use skilang_lang::overrides::Override;
use skilang_lang::source::SourceFile;
use std::path::{Path, PathBuf};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");
const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../skilang.schema.json");

fn printed() -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_skilang")).arg("schema").output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(&printed()).expect("the schema is JSON");
    jsonschema::draft7::new(&schema).expect("the schema is a valid draft-7 schema")
}

fn examples() -> Vec<PathBuf> {
    let mut specs: Vec<PathBuf> = std::fs::read_dir(EXAMPLES)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    specs.sort();
    assert!(specs.len() >= 8, "{specs:?}");
    specs
}

/// The spec as an editor's validator sees it.
fn as_json(path: &Path) -> Value {
    let file = SourceFile::new(path, std::fs::read_to_string(path).unwrap());
    skilang_lang::yaml::parse(&file).unwrap_or_else(|d| panic!("{}: {}", path.display(), d.message)).to_json()
}

#[test]
fn the_committed_schema_is_the_one_skilang_prints() {
    let text = printed();
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(COMMITTED, &text).unwrap();
    }
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    assert!(committed == text, "skilang.schema.json is stale: BLESS=1 cargo test -p skilang --test schema_cli");
}

#[test]
fn every_example_is_valid() {
    let v = validator();
    for spec in examples() {
        let errors: Vec<String> =
            v.iter_errors(&as_json(&spec)).map(|e| format!("{} at {}", e, e.instance_path)).collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", spec.display());
    }
}

/// Every mapping of `value`, as the dotted path `--set` takes (keys with dots left out).
fn mappings(value: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match value {
        Value::Object(m) => {
            out.push(path.clone());
            for (k, v) in m.iter().filter(|(k, _)| !k.contains('.')) {
                path.push(k.clone());
                mappings(v, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(i.to_string());
                mappings(v, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn at<'v>(value: &'v mut Value, path: &[String]) -> &'v mut Value {
    path.iter().fold(value, |v, k| match v {
        Value::Array(items) => &mut items[k.parse::<usize>().unwrap()],
        other => &mut other[k.as_str()],
    })
}

/// In every mapping of every example, a key nobody knows: where the checker calls it unknown the
/// schema refuses the spec, and where the checker accepts the spec so does the schema.
#[test]
fn an_unknown_key_is_refused_where_the_checker_refuses_it() {
    let v = validator();
    let (mut refused, mut accepted) = (0, 0);
    for spec in examples() {
        let json = as_json(&spec);
        let mut places = Vec::new();
        mappings(&json, &mut Vec::new(), &mut places);
        for place in places {
            let key: Vec<String> = place.iter().cloned().chain(["bogus_key".to_string()]).collect();
            let o = Override { path: key.clone(), value: "1".into() };
            let outcome = skilang_lang::check_file_with(&spec, &[o]).expect("the spec reads");
            let mut changed = json.clone();
            at(&mut changed, &place)["bogus_key"] = Value::from(1);
            let schema_refuses = !v.is_valid(&changed);
            let where_ = format!("{} at {}", spec.display(), key.join("."));
            if outcome.diagnostics.iter().any(|d| d.message.starts_with("unknown key `bogus_key` in")) {
                assert!(schema_refuses, "{where_}: the checker refuses an unknown key that the schema accepts");
                refused += 1;
            } else if outcome.is_valid() {
                assert!(!schema_refuses, "{where_}: the checker accepts what the schema refuses");
                accepted += 1;
            }
        }
    }
    assert!(refused > 100, "unknown keys were tried in {refused} places");
    eprintln!("unknown keys refused by both in {refused} places; accepted by both in {accepted}");
}
