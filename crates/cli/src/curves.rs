//! `curves.svg`: loss and accuracy per epoch, drawn as plain SVG (no font or plotting library).

use skilang_learn::train::Epoch;
use std::fmt::Write;

const W: f64 = 640.0;
const H: f64 = 360.0;
const PAD: f64 = 48.0;

pub fn svg(title: &str, epochs: &[Epoch]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        s,
        r#"<rect width="100%" height="100%" fill="white"/><text x="{PAD}" y="24" font-size="14">{}</text>"#,
        escape(title)
    );
    let _ = writeln!(
        s,
        r#"<line x1="{PAD}" y1="{}" x2="{}" y2="{}" stroke="black"/><line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{}" stroke="black"/>"#,
        H - PAD,
        W - PAD,
        H - PAD,
        H - PAD
    );
    let n = epochs.len().max(1);
    let x = |i: usize| PAD + (W - 2.0 * PAD) * if n == 1 { 0.5 } else { i as f64 / (n - 1) as f64 };
    let max_loss = epochs.iter().map(|e| e.loss).fold(f64::MIN_POSITIVE, f64::max);
    let mut series = vec![
        (
            "loss (scaled to its maximum)".to_string(),
            "#d62728",
            epochs.iter().map(|e| Some(e.loss / max_loss)).collect(),
        ),
        ("training accuracy".to_string(), "#1f77b4", epochs.iter().map(|e| Some(e.train_accuracy)).collect()),
        ("validation accuracy".to_string(), "#2ca02c", epochs.iter().map(|e| e.validation_accuracy).collect()),
    ];
    // Fuzzy training: each constraint's mean violation (1 − truth) per epoch.
    let constraints: std::collections::BTreeSet<usize> =
        epochs.iter().flat_map(|e| e.constraint_violations.keys().copied()).collect();
    const PALETTE: [&str; 6] = ["#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
    for (i, c) in constraints.into_iter().enumerate() {
        let values: Vec<Option<f64>> = epochs.iter().map(|e| e.constraint_violations.get(&c).copied()).collect();
        series.push((format!("constraint {c}: violation"), PALETTE[i % PALETTE.len()], values));
    }
    for (k, (name, color, values)) in series.iter().enumerate() {
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", x(i), H - PAD - (H - 2.0 * PAD) * v.clamp(0.0, 1.0))))
            .collect();
        if points.is_empty() {
            continue;
        }
        let _ =
            writeln!(s, r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#, points.join(" "));
        for p in &points {
            let (px, py) = p.split_once(',').unwrap_or(("0", "0"));
            let _ = writeln!(s, r#"<circle cx="{px}" cy="{py}" r="3" fill="{color}"/>"#);
        }
        let ly = PAD + 16.0 * k as f64;
        let _ = writeln!(
            s,
            r#"<rect x="{}" y="{}" width="10" height="10" fill="{color}"/><text x="{}" y="{}">{}</text>"#,
            W - 230.0,
            ly - 9.0,
            W - 215.0,
            ly,
            escape(name)
        );
    }
    for (v, label) in [(0.0, "0"), (0.5, "0.5"), (1.0, "1")] {
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{:.1}" text-anchor="end">{label}</text>"#,
            PAD - 6.0,
            H - PAD - (H - 2.0 * PAD) * v + 4.0
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">epoch (1 to {})</text>"#,
        W / 2.0,
        H - 14.0,
        epochs.len()
    );
    s.push_str("</svg>\n");
    s
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
