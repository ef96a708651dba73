//! Box plots as SVG: one panel per metric, one box per grid point (quartiles, median, whiskers to
//! the extremes, every run as a dot), the plot SKI-lang's authors compare educated and uneducated
//! networks with.

use std::fmt::Write;

pub struct Panel {
    pub title: String,
    /// `(label, values)` per box; a box without values is left empty.
    pub boxes: Vec<(String, Vec<f64>)>,
}

const PANEL_H: f64 = 260.0;
const TOP: f64 = 34.0;
const BOTTOM: f64 = 70.0;
const LEFT: f64 = 64.0;
const SLOT: f64 = 64.0;

/// The `q`-quantile of sorted values, interpolating linearly.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let at = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo as f64)
}

/// Enough decimals to tell ticks `step` apart.
fn decimals(step: f64) -> usize {
    if step <= 0.0 || !step.is_finite() {
        return 2;
    }
    (1.0 - step.log10().floor()).clamp(0.0, 6.0) as usize
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

pub fn svg(title: &str, panels: &[Panel]) -> String {
    let slots = panels.iter().map(|p| p.boxes.len()).max().unwrap_or(1).max(1) as f64;
    let panel_w = (LEFT + 24.0 + SLOT * slots).max(300.0);
    let per_row = if panels.len() > 4 { 3 } else { 2.min(panels.len().max(1)) };
    let rows = panels.len().div_ceil(per_row).max(1);
    let (width, height) = (panel_w * per_row as f64, 30.0 + PANEL_H * rows as f64);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"11\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"8\" y=\"20\" font-size=\"14\">{}</text>\n",
        escape(title)
    );
    for (i, panel) in panels.iter().enumerate() {
        let (x0, y0) = ((i % per_row) as f64 * panel_w, 30.0 + (i / per_row) as f64 * PANEL_H);
        draw(&mut s, panel, x0, y0, panel_w);
    }
    s.push_str("</svg>\n");
    s
}

fn draw(s: &mut String, panel: &Panel, x0: f64, y0: f64, w: f64) {
    let all: Vec<f64> = panel.boxes.iter().flat_map(|(_, v)| v.iter().copied()).filter(|v| v.is_finite()).collect();
    let (mut lo, mut hi) = all.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
    if all.is_empty() {
        (lo, hi) = (0.0, 1.0);
    }
    let pad = if hi > lo { (hi - lo) * 0.08 } else { lo.abs().max(1e-3) * 0.01 };
    (lo, hi) = (lo - pad, hi + pad);
    let (top, bottom) = (y0 + TOP, y0 + PANEL_H - BOTTOM);
    let y = |v: f64| bottom - (bottom - top) * (v - lo) / (hi - lo);
    let left = x0 + LEFT;
    let _ = writeln!(s, "<text x=\"{left}\" y=\"{}\" font-size=\"12\">{}</text>", y0 + 18.0, escape(&panel.title));
    let _ = writeln!(
        s,
        "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{bottom}\" stroke=\"black\"/><line x1=\"{left}\" y1=\"{bottom}\" x2=\"{}\" y2=\"{bottom}\" stroke=\"black\"/>",
        x0 + w - 16.0
    );
    let places = decimals((hi - lo) / 2.0);
    for tick in [lo + pad, (lo + hi) / 2.0, hi - pad] {
        let _ = writeln!(
            s,
            "<line x1=\"{}\" y1=\"{ty}\" x2=\"{left}\" y2=\"{ty}\" stroke=\"black\"/><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{tick:.places$}</text>",
            left - 4.0,
            left - 6.0,
            y(tick) + 4.0,
            ty = y(tick)
        );
    }
    let slanted = panel.boxes.iter().any(|(l, _)| l.chars().count() > 9);
    for (j, (label, values)) in panel.boxes.iter().enumerate() {
        let cx = left + SLOT * (j as f64 + 0.5) + 8.0;
        let label_y = bottom + 16.0;
        let label = escape(label);
        if slanted {
            let _ = writeln!(s, "<text x=\"{cx}\" y=\"{label_y}\" text-anchor=\"end\" transform=\"rotate(-30 {cx} {label_y})\">{label}</text>");
        } else {
            let _ = writeln!(s, "<text x=\"{cx}\" y=\"{label_y}\" text-anchor=\"middle\">{label}</text>");
        }
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        if sorted.is_empty() {
            continue;
        }
        sorted.sort_by(f64::total_cmp);
        let [min, q1, median, q3, max] = [0.0, 0.25, 0.5, 0.75, 1.0].map(|q| y(quantile(&sorted, q)));
        let half = SLOT * 0.3;
        let _ = writeln!(
            s,
            "<line x1=\"{cx}\" y1=\"{max}\" x2=\"{cx}\" y2=\"{min}\" stroke=\"#1f77b4\"/>\
             <line x1=\"{}\" y1=\"{max}\" x2=\"{}\" y2=\"{max}\" stroke=\"#1f77b4\"/><line x1=\"{}\" y1=\"{min}\" x2=\"{}\" y2=\"{min}\" stroke=\"#1f77b4\"/>\
             <rect x=\"{}\" y=\"{q3}\" width=\"{}\" height=\"{}\" fill=\"#c6dbef\" stroke=\"#1f77b4\"/>\
             <line x1=\"{}\" y1=\"{median}\" x2=\"{}\" y2=\"{median}\" stroke=\"#08306b\" stroke-width=\"2\"/>",
            cx - half / 2.0,
            cx + half / 2.0,
            cx - half / 2.0,
            cx + half / 2.0,
            cx - half,
            2.0 * half,
            (q1 - q3).max(0.5),
            cx - half,
            cx + half,
        );
        for (k, v) in sorted.iter().enumerate() {
            // Spread the dots sideways so that equal values stay visible.
            let dx = (k as f64 - (sorted.len() - 1) as f64 / 2.0) * 4.0;
            let _ = writeln!(
                s,
                "<circle cx=\"{}\" cy=\"{}\" r=\"2.5\" fill=\"#d62728\" fill-opacity=\"0.8\"/>",
                cx + dx,
                y(*v)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartiles_interpolate() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 0.5), 2.5);
        assert_eq!(quantile(&v, 0.25), 1.75);
        assert_eq!(quantile(&[7.0], 0.75), 7.0);
    }

    #[test]
    fn every_run_is_a_dot_and_labels_are_escaped() {
        let panels = vec![
            Panel { title: "acc".into(), boxes: vec![("a<b".into(), vec![0.8, 0.82, 0.81]), ("none".into(), vec![])] },
            Panel { title: "sp".into(), boxes: vec![("x".into(), vec![0.1]), ("y".into(), vec![0.2, 0.2])] },
        ];
        let s = svg("t & u", &panels);
        assert_eq!(s.matches("<circle").count(), 6);
        assert_eq!(s.matches("<rect x=").count(), 3);
        assert!(s.contains("a&lt;b") && s.contains("t &amp; u") && !s.contains("NaN"));
    }
}
