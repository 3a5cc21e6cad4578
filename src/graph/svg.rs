//! The topology as a standalone SVG picture, laid out by [`super::layout`]: no Graphviz
//! needed. Text is monospaced so that its width, and with it the layout, is known here.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::layout::{self, Rect, Size};
use super::{Health, Topology, xml_escape};

const FONT: &str = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace";
/// Advance of one character at 12px, in tenths of a pixel (monospaced fonts: 0.6 em).
const CHAR_12: i64 = 72;
const CHAR_13: i64 = 78;
const LINE: i64 = 16;
const PAD: i64 = 10;
const TITLE_H: i64 = 48;
const LEGEND_H: i64 = 34;

const HEALTHS: [Health; 4] = [
    Health::Fresh,
    Health::Stale,
    Health::Failed,
    Health::Unknown,
];

fn text_w(text: &str, tenths: i64) -> i64 {
    (text.chars().count() as i64 * tenths + 9) / 10
}

fn label_lines(t: &Topology, e: usize) -> [String; 3] {
    let e = &t.edges[e];
    [e.replication.clone(), e.datasets.clone(), e.summary()]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Side {
    Left,
    Right,
    Bottom,
}

impl Side {
    /// The direction a curve leaves a box by this side.
    fn outward(self) -> (i64, i64) {
        match self {
            Side::Left => (-1, 0),
            Side::Right => (1, 0),
            Side::Bottom => (0, 1),
        }
    }
}

pub fn render(t: &Topology) -> String {
    // A system with many edges on one side grows taller, so their arrows stay apart.
    let ends_on = |i: usize| {
        let ins = t.edges.iter().filter(|e| e.to == i).count() as i64;
        let outs = t.edges.iter().filter(|e| e.from == i).count() as i64;
        ins.max(outs)
    };
    let node_sizes: Vec<Size> = t
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| Size {
            w: text_w(&n.name, CHAR_13).max(text_w(&n.detail, CHAR_12)) + 2 * PAD + 8,
            h: (2 * LINE + 2 * PAD - 4).max(14 * (ends_on(i) + 1)),
        })
        .collect();
    let label_sizes: Vec<Size> = (0..t.edges.len())
        .map(|e| Size {
            w: label_lines(t, e)
                .iter()
                .map(|l| text_w(l, CHAR_12))
                .max()
                .unwrap_or(0)
                + 2 * PAD,
            h: 3 * LINE + PAD,
        })
        .collect();
    let ends: Vec<(usize, usize)> = t.edges.iter().map(|e| (e.from, e.to)).collect();
    let lay = layout::layout(&node_sizes, &ends, &label_sizes, TITLE_H);

    let title = format!("Replication topology of {}", t.project);
    let legend_w = 2 * 24 + 4 * 120 + text_w("arrows: source → target", CHAR_12);
    let width = lay.width.max(text_w(&title, CHAR_13) + 48).max(legend_w);
    let height = lay.height + LEGEND_H;

    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" font-family=\"{FONT}\" font-size=\"12\">"
    );
    let _ = writeln!(out, "<title>{}</title>", xml_escape(&title));
    out.push_str("<defs>\n");
    for h in HEALTHS {
        let _ = writeln!(
            out,
            "<marker id=\"arrow-{}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
             markerUnits=\"userSpaceOnUse\" markerWidth=\"10\" markerHeight=\"10\" \
             orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{}\"/></marker>",
            h.word(),
            h.colour()
        );
    }
    out.push_str("</defs>\n");
    let _ = writeln!(
        out,
        "<rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>"
    );
    let _ = writeln!(
        out,
        "<text x=\"24\" y=\"30\" font-size=\"13\" font-weight=\"bold\" fill=\"#263238\">{}</text>",
        xml_escape(&title)
    );

    edges(&mut out, t, &lay);
    for (e, r) in lay.labels.iter().enumerate() {
        label(&mut out, t, e, r);
    }
    for (n, r) in t.nodes.iter().zip(&lay.nodes) {
        let (fill, stroke, dash, ink) = if n.read {
            ("#f5f7fa", "#37474f", "", "#263238")
        } else {
            (
                "#fafafa",
                Health::Unknown.colour(),
                " stroke-dasharray=\"5 3\"",
                Health::Unknown.colour(),
            )
        };
        let _ = writeln!(
            out,
            "<g class=\"system\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"6\" \
             fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"1.5\"{dash}/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\" \
             fill=\"{ink}\">{}</text><text x=\"{}\" y=\"{}\" text-anchor=\"middle\" \
             fill=\"#607d8b\">{}</text></g>",
            r.x,
            r.y,
            r.w,
            r.h,
            r.cx(),
            r.cy() - 3,
            xml_escape(&n.name),
            r.cx(),
            r.cy() - 3 + LINE,
            xml_escape(&n.detail)
        );
    }
    legend(&mut out, lay.height + 6);
    out.push_str("</svg>\n");
    out
}

/// Every edge as a curve from its source to its label and on to its target, where it ends
/// in an arrow; the ends that share a side of a system are spread along it.
fn edges(out: &mut String, t: &Topology, lay: &layout::Layout) {
    struct End {
        node: usize,
        side: Side,
        /// Where the curve meets the label, and the label's side there.
        at: (i64, i64),
        label_side: Side,
    }
    let mut ends: Vec<(usize, [End; 2])> = Vec::new();
    for (i, e) in t.edges.iter().enumerate() {
        let (Some(a), Some(b), Some(l)) = (
            lay.nodes.get(e.from),
            lay.nodes.get(e.to),
            lay.labels.get(i),
        ) else {
            continue;
        };
        let low = lay.below.get(i).copied().unwrap_or(false);
        let from_side = match () {
            _ if low => Side::Bottom,
            _ if l.cx() >= a.cx() => Side::Right,
            _ => Side::Left,
        };
        let to_side = match () {
            _ if low => Side::Bottom,
            _ if l.cx() <= b.cx() => Side::Left,
            _ => Side::Right,
        };
        let facing = |n: &Rect| {
            if n.cx() < l.cx() {
                Side::Left
            } else {
                Side::Right
            }
        };
        let (lf, lt) = (facing(a), facing(b));
        let (yf, yt) = if lf == lt {
            (l.y + l.h / 3, l.y + 2 * l.h / 3)
        } else {
            (l.cy(), l.cy())
        };
        let xs = |s: Side| if s == Side::Left { l.x } else { l.right() };
        ends.push((
            i,
            [
                End {
                    node: e.from,
                    side: from_side,
                    at: (xs(lf), yf),
                    label_side: lf,
                },
                End {
                    node: e.to,
                    side: to_side,
                    at: (xs(lt), yt),
                    label_side: lt,
                },
            ],
        ));
    }
    // Ports: the ends on one side of one system, in the order of where they meet their
    // labels (top to bottom on the left and right, left to right at the bottom).
    // (system, side) → (place at the label, edge, which end).
    type Ports = BTreeMap<(usize, Side), Vec<(i64, usize, usize)>>;
    let mut sides: Ports = BTreeMap::new();
    for (e, pair) in &ends {
        for (k, end) in pair.iter().enumerate() {
            let key = if end.side == Side::Bottom {
                end.at.0
            } else {
                end.at.1
            };
            sides
                .entry((end.node, end.side))
                .or_default()
                .push((key, *e, k));
        }
    }
    let mut port: BTreeMap<(usize, usize), (i64, i64)> = BTreeMap::new();
    for ((node, side), mut list) in sides {
        list.sort();
        let Some(r) = lay.nodes.get(node) else {
            continue;
        };
        let count = list.len() as i64;
        for (i, (_, e, k)) in list.into_iter().enumerate() {
            let step = |len: i64| len * (i as i64 + 1) / (count + 1);
            let at = match side {
                Side::Left => (r.x, r.y + step(r.h)),
                Side::Right => (r.right(), r.y + step(r.h)),
                Side::Bottom => (r.x + step(r.w), r.bottom()),
            };
            port.insert((e, k), at);
        }
    }
    for (e, [f, to]) in &ends {
        let (Some(&p), Some(&q), Some(edge)) =
            (port.get(&(*e, 0)), port.get(&(*e, 1)), t.edges.get(*e))
        else {
            continue;
        };
        let (l1, l2) = (f.at, to.at);
        let reach = |a: (i64, i64), b: (i64, i64)| {
            ((b.0 - a.0).abs() / 2).max((b.1 - a.1).abs() / 2).max(36)
        };
        let d1 = reach(p, l1);
        let d2 = reach(l2, q);
        let c = |pt: (i64, i64), side: Side, d: i64| {
            let (dx, dy) = side.outward();
            (pt.0 + dx * d, pt.1 + dy * d)
        };
        let (c1, c2) = (c(p, f.side, d1), c(l1, f.label_side, d1));
        let (c3, c4) = (c(l2, to.label_side, d2), c(q, to.side, d2));
        let path = format!(
            "M{},{} C{},{} {},{} {},{} M{},{} C{},{} {},{} {},{}",
            p.0,
            p.1,
            c1.0,
            c1.1,
            c2.0,
            c2.1,
            l1.0,
            l1.1,
            l2.0,
            l2.1,
            c3.0,
            c3.1,
            c4.0,
            c4.1,
            q.0,
            q.1
        );
        let dash = if edge.health == Health::Unknown {
            " stroke-dasharray=\"6 4\""
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "<path class=\"replication {}\" d=\"{path}\" fill=\"none\" stroke=\"{}\" \
             stroke-width=\"2\"{dash} marker-end=\"url(#arrow-{})\"/>",
            edge.health.word(),
            edge.health.colour(),
            edge.health.word()
        );
    }
}

fn label(out: &mut String, t: &Topology, e: usize, r: &Rect) {
    let Some(edge) = t.edges.get(e) else {
        return;
    };
    let colour = edge.health.colour();
    let tip = match &edge.reason {
        Some(reason) => format!("{}: {}", edge.health.word(), reason),
        None => edge.health.word().to_string(),
    };
    let lines = label_lines(t, e);
    let inks = ["#263238", "#455a64", colour];
    let _ = write!(
        out,
        "<g class=\"label {}\"><title>{}</title><rect x=\"{}\" y=\"{}\" width=\"{}\" \
         height=\"{}\" rx=\"4\" fill=\"#ffffff\" stroke=\"{colour}\" stroke-width=\"1.5\"/>",
        edge.health.word(),
        xml_escape(&tip),
        r.x,
        r.y,
        r.w,
        r.h
    );
    for (i, (line, ink)) in lines.iter().zip(inks).enumerate() {
        let weight = if i == 0 { " font-weight=\"bold\"" } else { "" };
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" fill=\"{ink}\"{weight}>{}</text>",
            r.x + PAD,
            r.y + PAD / 2 + 12 + LINE * i as i64,
            xml_escape(line)
        );
    }
    out.push_str("</g>\n");
}

fn legend(out: &mut String, y: i64) {
    let mut x = 24;
    out.push_str("<g class=\"legend\">");
    for h in HEALTHS {
        let _ = write!(
            out,
            "<line x1=\"{x}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"3\"/>\
             <text x=\"{}\" y=\"{}\" fill=\"#455a64\">{}</text>",
            y + 10,
            x + 24,
            y + 10,
            h.colour(),
            x + 30,
            y + 14,
            h.word()
        );
        x += 120;
    }
    let _ = write!(
        out,
        "<text x=\"{x}\" y=\"{}\" fill=\"#455a64\">arrows: source → target</text>",
        y + 14
    );
    out.push_str("</g>\n");
}
