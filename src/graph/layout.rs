//! A small layered layout for the topology picture, in integers so that the same graph
//! always gives the same picture.
//!
//! Systems go in columns by the direction data flows (longest path from the systems that
//! only send; cycles are broken at the edge that closes them), ordered within a column by
//! the positions of their neighbours. Each edge's label sits in the free column between its
//! two ends (beside the system for a LOCAL replication), stacked so that no two overlap;
//! the edge is drawn through its label.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    pub w: i64,
    pub h: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: i64,
    pub y: i64,
    pub w: i64,
    pub h: i64,
}

impl Rect {
    pub fn right(&self) -> i64 {
        self.x + self.w
    }
    pub fn bottom(&self) -> i64 {
        self.y + self.h
    }
    pub fn cx(&self) -> i64 {
        self.x + self.w / 2
    }
    pub fn cy(&self) -> i64 {
        self.y + self.h / 2
    }
    pub fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.right() && o.x < self.right() && self.y < o.bottom() && o.y < self.bottom()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub nodes: Vec<Rect>,
    /// One per edge, in the order of the edges.
    pub labels: Vec<Rect>,
    /// Per edge: its label is in the lane below the systems, and it leaves and enters
    /// them at the bottom.
    pub below: Vec<bool>,
    pub width: i64,
    pub height: i64,
}

const MARGIN: i64 = 24;
const NODE_GAP: i64 = 32;
const LABEL_GAP: i64 = 14;
/// Room for the curves on each side of a column of labels.
const GAP_PAD: i64 = 48;
const MIN_GAP: i64 = 80;

/// Places `nodes` and one label per edge (`from`, `to`: node indices) below `top`.
pub fn layout(nodes: &[Size], edges: &[(usize, usize)], labels: &[Size], top: i64) -> Layout {
    let n = nodes.len();
    let edges: Vec<(usize, usize)> = edges
        .iter()
        .map(|&(a, b)| (a.min(n.saturating_sub(1)), b.min(n.saturating_sub(1))))
        .collect();
    if n == 0 {
        return Layout {
            nodes: vec![],
            labels: vec![],
            below: vec![],
            width: 2 * MARGIN,
            height: top + MARGIN,
        };
    }
    let (layer, forward) = layers(n, &edges);
    let depth = layer.iter().copied().max().unwrap_or(0);
    let order = order_in_layers(&layer, depth, &edges, &forward);

    let size = |i: usize| labels.get(i).copied().unwrap_or(Size { w: 0, h: 0 });
    // An edge back over two layers or more would cross the systems between its ends: its
    // label goes in the lane below them all.
    let below: Vec<bool> = edges
        .iter()
        .map(|&(a, b)| layer[a] >= layer[b] + 2)
        .collect();
    let gap_of: Vec<usize> = edges
        .iter()
        .zip(&below)
        .map(|(&(a, b), &low)| {
            if low {
                usize::MAX
            } else if a == b {
                layer[a]
            } else {
                layer[a].min(layer[b])
            }
        })
        .collect();

    // Columns: a layer of systems, then the gap holding the labels that start there.
    let col_w: Vec<i64> = (0..=depth)
        .map(|l| order[l].iter().map(|&v| nodes[v].w).max().unwrap_or(0))
        .collect();
    let gap_w: Vec<i64> = (0..=depth)
        .map(|g| {
            let widest = (0..edges.len())
                .filter(|&e| gap_of[e] == g)
                .map(|e| size(e).w)
                .max();
            match widest {
                Some(w) => (w + 2 * GAP_PAD).max(MIN_GAP),
                None if g < depth => MIN_GAP,
                None => 0,
            }
        })
        .collect();
    let mut col_x = vec![0; depth + 1];
    let mut gap_x = vec![0; depth + 1];
    let mut x = MARGIN;
    for l in 0..=depth {
        col_x[l] = x;
        x += col_w[l];
        gap_x[l] = x;
        x += gap_w[l];
    }
    let width = x + MARGIN;

    // The tallest column sets the height; the others are centred in it.
    let stack = |hs: &mut dyn Iterator<Item = i64>, gap: i64| {
        let (sum, k) = hs.fold((0, 0), |(s, k), h| (s + h, k + 1));
        sum + gap * (k - 1).max(0)
    };
    let mut height_needed = 0;
    for (l, column) in order.iter().enumerate() {
        height_needed = height_needed.max(stack(&mut column.iter().map(|&v| nodes[v].h), NODE_GAP));
        height_needed = height_needed.max(stack(
            &mut (0..edges.len())
                .filter(|&e| gap_of[e] == l)
                .map(|e| size(e).h),
            LABEL_GAP,
        ));
    }

    let mut node_rects = vec![
        Rect {
            x: 0,
            y: 0,
            w: 0,
            h: 0
        };
        n
    ];
    for l in 0..=depth {
        let k = order[l].len() as i64;
        let sum: i64 = order[l].iter().map(|&v| nodes[v].h).sum();
        let spacing = if k > 1 {
            ((height_needed - sum) / (k + 1)).max(NODE_GAP)
        } else {
            0
        };
        let mut y = top + (height_needed - (sum + spacing * (k - 1))) / 2;
        for &v in &order[l] {
            node_rects[v] = Rect {
                x: col_x[l] + (col_w[l] - nodes[v].w) / 2,
                y,
                w: nodes[v].w,
                h: nodes[v].h,
            };
            y += nodes[v].h + spacing;
        }
    }

    let mut label_rects = vec![
        Rect {
            x: 0,
            y: 0,
            w: 0,
            h: 0
        };
        edges.len()
    ];
    for g in 0..=depth {
        let mut mine: Vec<(i64, usize)> = (0..edges.len())
            .filter(|&e| gap_of[e] == g)
            .map(|e| {
                let (a, b) = edges[e];
                ((node_rects[a].cy() + node_rects[b].cy()) / 2, e)
            })
            .collect();
        mine.sort();
        let mut placed: Vec<usize> = Vec::new();
        let mut bottom = top - LABEL_GAP;
        for (want, e) in mine {
            let s = size(e);
            let y = (want - s.h / 2).max(bottom + LABEL_GAP).max(top);
            label_rects[e] = Rect {
                x: gap_x[g] + (gap_w[g] - s.w) / 2,
                y,
                w: s.w,
                h: s.h,
            };
            bottom = y + s.h;
            placed.push(e);
        }
        // Pulled back up if the stack ran past the bottom, as far as the top allows.
        let over = bottom - (top + height_needed);
        if let Some(&first) = placed.first() {
            let lift = over.min(label_rects[first].y - top).max(0);
            for &e in &placed {
                label_rects[e].y -= lift;
            }
        }
    }
    // The lane below: each label centred under its two ends, on the first row where it
    // overlaps no other.
    let lane_top = node_rects
        .iter()
        .chain(&label_rects)
        .map(Rect::bottom)
        .max()
        .unwrap_or(top)
        + 2 * LABEL_GAP;
    let row_h = labels.iter().map(|l| l.h).max().unwrap_or(0) + LABEL_GAP;
    let mut width = width;
    let mut rows: Vec<Vec<Rect>> = Vec::new();
    for e in (0..edges.len()).filter(|&e| below[e]) {
        let (a, b) = edges[e];
        let s = size(e);
        let x = ((node_rects[a].cx() + node_rects[b].cx()) / 2 - s.w / 2).max(MARGIN);
        let free = |r: &Vec<Rect>| {
            r.iter()
                .all(|o| x >= o.right() + LABEL_GAP || x + s.w + LABEL_GAP <= o.x)
        };
        let row = rows.iter().position(free).unwrap_or(rows.len());
        if row == rows.len() {
            rows.push(Vec::new());
        }
        let r = Rect {
            x,
            y: lane_top + row as i64 * row_h,
            w: s.w,
            h: s.h,
        };
        rows[row].push(r);
        label_rects[e] = r;
        width = width.max(r.right() + MARGIN);
    }
    let height = node_rects
        .iter()
        .chain(&label_rects)
        .map(Rect::bottom)
        .max()
        .unwrap_or(top)
        + MARGIN;
    Layout {
        nodes: node_rects,
        labels: label_rects,
        below,
        width,
        height,
    }
}

/// The layer of every node (longest path over the edges that do not close a cycle) and
/// which edges those are.
fn layers(n: usize, edges: &[(usize, usize)]) -> (Vec<usize>, Vec<bool>) {
    let mut out: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    for (e, &(a, b)) in edges.iter().enumerate() {
        out[a].push((e, b));
    }
    // 0 unseen, 1 on the path being explored, 2 done.
    let mut mark = vec![0u8; n];
    let mut forward = vec![false; edges.len()];
    let mut post: Vec<usize> = Vec::with_capacity(n);
    // Systems that only send are explored first, so a cycle is broken at the edge that
    // leads back towards them.
    let mut roots: Vec<usize> = (0..n).collect();
    roots.sort_by_key(|&v| edges.iter().any(|&(a, b)| b == v && a != v));
    for root in roots {
        if mark[root] != 0 {
            continue;
        }
        // Iterative depth-first search: (node, next edge to look at).
        let mut path: Vec<(usize, usize)> = vec![(root, 0)];
        mark[root] = 1;
        while let Some(top) = path.last_mut() {
            let (v, next) = *top;
            top.1 += 1;
            if let Some(&(e, w)) = out[v].get(next) {
                if w == v {
                    continue;
                }
                match mark[w] {
                    0 => {
                        forward[e] = true;
                        mark[w] = 1;
                        path.push((w, 0));
                    }
                    2 => forward[e] = true,
                    // Closes a cycle: left out of the layering.
                    _ => {}
                }
            } else {
                mark[v] = 2;
                post.push(v);
                path.pop();
            }
        }
    }
    let mut layer = vec![0usize; n];
    for &v in post.iter().rev() {
        for &(e, w) in &out[v] {
            if forward[e] {
                layer[w] = layer[w].max(layer[v] + 1);
            }
        }
    }
    (layer, forward)
}

/// Nodes of each layer, ordered by the mean position of their neighbours in the layer
/// before (then after, then before again); ties keep the config's order.
fn order_in_layers(
    layer: &[usize],
    depth: usize,
    edges: &[(usize, usize)],
    forward: &[bool],
) -> Vec<Vec<usize>> {
    let mut order: Vec<Vec<usize>> = vec![Vec::new(); depth + 1];
    for (v, &l) in layer.iter().enumerate() {
        order[l].push(v);
    }
    let mut pos = vec![0usize; layer.len()];
    let refresh = |order: &Vec<Vec<usize>>, pos: &mut Vec<usize>| {
        for col in order {
            for (i, &v) in col.iter().enumerate() {
                pos[v] = i;
            }
        }
    };
    refresh(&order, &mut pos);
    let sweep = |order: &mut Vec<Vec<usize>>, pos: &mut Vec<usize>, down: bool| {
        let layers: Vec<usize> = if down {
            (1..=depth).collect()
        } else {
            (0..depth).rev().collect()
        };
        for l in layers {
            let key = |v: usize| -> (i64, usize) {
                let near: Vec<usize> = edges
                    .iter()
                    .zip(forward)
                    .filter(|(_, f)| **f)
                    .filter_map(|(&(a, b), _)| {
                        if down && b == v && layer[a] + 1 == l {
                            Some(pos[a])
                        } else if !down && a == v && layer[b] == l + 1 {
                            Some(pos[b])
                        } else {
                            None
                        }
                    })
                    .collect();
                // Scaled by 1000 to order by the mean without floating point.
                let mean = if near.is_empty() {
                    pos[v] as i64 * 1000
                } else {
                    near.iter().map(|&p| p as i64 * 1000).sum::<i64>() / near.len() as i64
                };
                (mean, pos[v])
            };
            let mut col = order[l].clone();
            col.sort_by_key(|&v| key(v));
            order[l] = col;
            refresh(order, pos);
        }
    };
    sweep(&mut order, &mut pos, true);
    sweep(&mut order, &mut pos, false);
    sweep(&mut order, &mut pos, true);
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODE: Size = Size { w: 120, h: 44 };
    const LABEL: Size = Size { w: 200, h: 50 };

    fn place(n: usize, edges: &[(usize, usize)]) -> Layout {
        let labels = vec![LABEL; edges.len()];
        layout(&vec![NODE; n], edges, &labels, 40)
    }

    fn assert_no_overlap(l: &Layout) {
        let all: Vec<&Rect> = l.nodes.iter().chain(&l.labels).collect();
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert!(!a.overlaps(b), "{a:?} overlaps {b:?}");
            }
            assert!(a.x >= 0 && a.y >= 40 && a.right() <= l.width && a.bottom() <= l.height);
        }
    }

    #[test]
    fn data_flows_left_to_right() {
        // nas1, nas2 → backup → offsite
        let l = place(4, &[(0, 2), (0, 2), (1, 2), (2, 3)]);
        assert!(l.nodes[0].x == l.nodes[1].x);
        assert!(l.nodes[2].x > l.nodes[0].right());
        assert!(l.nodes[3].x > l.nodes[2].right());
        // Labels sit between the ends of their edge.
        assert!(l.labels[0].x > l.nodes[0].right() && l.labels[0].right() < l.nodes[2].x);
        assert!(l.labels[3].x > l.nodes[2].right() && l.labels[3].right() < l.nodes[3].x);
        assert_no_overlap(&l);
    }

    #[test]
    fn cycles_loops_and_lonely_systems_are_placed_without_overlap() {
        let l = place(4, &[(0, 1), (1, 0), (1, 1), (2, 2), (1, 2)]);
        assert_no_overlap(&l);
        let again = place(4, &[(0, 1), (1, 0), (1, 1), (2, 2), (1, 2)]);
        assert_eq!(l, again);
    }

    #[test]
    fn a_long_way_back_goes_below_the_systems_between() {
        // 0 → 1 → 2 → 3, and 3 back to 1.
        let l = place(4, &[(0, 1), (1, 2), (2, 3), (3, 1)]);
        assert_eq!(l.below, vec![false, false, false, true]);
        let lowest = l.nodes.iter().map(Rect::bottom).max().unwrap_or(0);
        assert!(l.labels[3].y > lowest);
        assert_no_overlap(&l);
    }

    #[test]
    fn many_parallel_edges_stack_their_labels() {
        let l = place(2, &[(0, 1); 7]);
        assert_no_overlap(&l);
        assert!(l.height > 7 * LABEL.h);
    }

    #[test]
    fn nothing_to_draw_is_an_empty_picture() {
        let l = layout(&[], &[(0, 1)], &[LABEL], 40);
        assert!(l.nodes.is_empty() && l.labels.is_empty());
    }
}
