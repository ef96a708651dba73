//! `skilang check`: diagnostics on stderr, a summary of each valid spec on stdout.

use crate::{exit, Format};
use serde::Serialize;
use skilang_lang::check::Program;
use skilang_lang::diag::DiagnosticJson;
use skilang_lang::overrides::Override;
use skilang_lang::{FileError, Outcome};
use std::fmt::Write;
use std::path::PathBuf;

#[derive(Serialize)]
struct FileReport<'a> {
    path: String,
    valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    diagnostics: Vec<DiagnosticJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'a Program>,
}

pub fn run(files: &[PathBuf], format: Format, overrides: &[Override]) -> u8 {
    let mut code = exit::OK;
    let mut reports = Vec::new();
    let outcomes: Vec<(PathBuf, Result<Outcome, FileError>)> =
        files.iter().map(|f| (f.clone(), skilang_lang::check_file_with(f, overrides))).collect();
    for (path, outcome) in &outcomes {
        match outcome {
            Err(e) => {
                code = code.max(exit::USAGE);
                if format == Format::Human {
                    match e {
                        FileError::Io(e) => eprintln!("error: cannot read {}: {e}", path.display()),
                        FileError::Override(e) | FileError::Refused(e) => eprintln!("error: {}: {e}", path.display()),
                    }
                }
                reports.push(FileReport {
                    path: path.display().to_string(),
                    valid: false,
                    error: Some(e.to_string()),
                    diagnostics: Vec::new(),
                    summary: None,
                });
            }
            Ok(o) => {
                if !o.is_valid() {
                    code = code.max(exit::INVALID);
                }
                if format == Format::Human {
                    for d in &o.diagnostics {
                        eprintln!("{}", d.render(&o.file));
                    }
                    if let Some(p) = o.program.as_ref().filter(|_| o.is_valid()) {
                        if let Err(stop) = crate::print_out(&summary(&path.display().to_string(), p)) {
                            return stop.max(code);
                        }
                    } else {
                        let errors = o.diagnostics.iter().filter(|d| d.is_error()).count();
                        eprintln!("{}: invalid, {errors} error{}", path.display(), if errors == 1 { "" } else { "s" });
                    }
                }
                reports.push(FileReport {
                    path: path.display().to_string(),
                    valid: o.is_valid(),
                    error: None,
                    diagnostics: o.diagnostics.iter().map(|d| d.to_json(&o.file)).collect(),
                    summary: o.program.as_ref().filter(|_| o.is_valid()),
                });
            }
        }
    }
    if format == Format::Json {
        let out = serde_json::json!({ "files": reports });
        if let Err(stop) = crate::print_out(&(serde_json::to_string_pretty(&out).unwrap_or_default() + "\n")) {
            return stop.max(code);
        }
    }
    code
}

/// The human summary: schemas, networks, rules, and each constraint with its latent part and scope.
pub fn summary(path: &str, p: &Program) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{path}: ok");
    let _ = writeln!(s, "  data");
    for d in &p.datasets {
        let inst =
            if d.instances.is_empty() { String::new() } else { format!("; instances {}", d.instances.join(", ")) };
        let _ = writeln!(s, "    {} ({}{inst})", d.name, d.source);
        for c in &d.features {
            let _ = writeln!(s, "      feature {}: {}", c.name, c.ty);
        }
        for c in &d.targets {
            let _ = writeln!(s, "      target  {}: {}", c.name, c.ty);
        }
    }
    let _ = writeln!(s, "  learnables");
    for l in &p.learnables {
        let inputs: Vec<String> = l.inputs.iter().map(|c| c.name.clone()).collect();
        let inputs =
            if inputs.len() > 4 { format!("{} features of {}", inputs.len(), l.dataset) } else { inputs.join(", ") };
        let _ = writeln!(s, "    {}: {inputs} -> {} ({} classes), {}", l.name, l.output, l.classes, l.model);
    }
    if !p.rules.is_empty() {
        let _ = writeln!(s, "  knowledge");
        for r in &p.rules {
            let unused = if r.used { "" } else { "  (unused)" };
            let _ = writeln!(s, "    {}({}){unused}", r.name, r.args.join(", "));
        }
    }
    if !p.injection_written {
        let why = if p.constraints.is_empty() { "a spec without constraints" } else { "a spec with constraints" };
        let _ = writeln!(s, "  injection: {} (the default for {why})", p.training.injection().name());
    }
    if !p.constraints.is_empty() {
        let _ = writeln!(s, "  constraints");
        for c in &p.constraints {
            let name = c.name.as_deref().map(|n| format!(" {n}")).unwrap_or_default();
            let _ = writeln!(
                s,
                "    #{}{name} {}, {}, weight {} ({:.0}%){}",
                c.id,
                c.kind,
                c.scope.name(),
                c.weight,
                c.share * 100.0,
                match (c.trained, c.measured) {
                    (_, true) => ", measured only",
                    (false, _) => ", not trained",
                    _ => "",
                }
            );
            let prefixes: &[&str] = match c.kind {
                "if-then" => &["if ", "then "],
                "iff" => &["", "iff "],
                _ => &[""],
            };
            for (prefix, f) in prefixes.iter().zip(&c.formulas) {
                let _ = writeln!(s, "      {prefix}{}", f.split_whitespace().collect::<Vec<_>>().join(" "));
            }
            let latent = if c.latent.is_empty() { "none".to_string() } else { c.latent.join(", ") };
            let _ = writeln!(s, "      latent: {latent}");
        }
    }
    s
}
