//! A small line diff for readable drift reports (`-` committed, `+` generated).

/// A unified-style diff of `old` → `new` with `context` unchanged lines around each change,
/// hunks headed `@@ -<old line> +<new line> @@` (1-based, where the hunk starts). Empty when the texts are equal.
pub fn unified(old: &str, new: &str, context: usize) -> String {
    if old == new {
        return String::new();
    }
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let ops = edit_script(&a, &b);
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, op)| !matches!(op, Op::Same(..)))
        .map(|(i, _)| i)
        .collect();
    if changed.is_empty() {
        // Only line endings or a trailing newline differ.
        return "@@ whitespace or trailing newline differs @@\n".to_owned();
    }
    let keep = |i: usize| changed.iter().any(|&c| i + context >= c && i <= c + context);
    let mut out = String::new();
    let mut in_hunk = false;
    for (i, op) in ops.iter().enumerate() {
        if !keep(i) {
            in_hunk = false;
            continue;
        }
        if !in_hunk {
            let (la, lb) = op.lines();
            out.push_str(&format!("@@ -{} +{} @@\n", la + 1, lb + 1));
            in_hunk = true;
        }
        match op {
            Op::Same(ia, _) => out.push_str(&format!(" {}\n", a[*ia])),
            Op::Del(ia, _) => out.push_str(&format!("-{}\n", a[*ia])),
            Op::Ins(_, ib) => out.push_str(&format!("+{}\n", b[*ib])),
        }
    }
    out
}

/// One step of the edit script, with the line indices (old, new) it stands at.
#[derive(Debug)]
enum Op {
    Same(usize, usize),
    Del(usize, usize),
    Ins(usize, usize),
}

impl Op {
    fn lines(&self) -> (usize, usize) {
        match self {
            Op::Same(a, b) | Op::Del(a, b) | Op::Ins(a, b) => (*a, *b),
        }
    }
}

/// Longest-common-subsequence edit script; quadratic, fine for schema files. Very large inputs
/// fall back to "delete everything, insert everything" after the common prefix and suffix.
fn edit_script(a: &[&str], b: &[&str]) -> Vec<Op> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix =
        a[prefix..].iter().rev().zip(b[prefix..].iter().rev()).take_while(|(x, y)| x == y).count();
    let (ma, mb) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut ops: Vec<Op> = (0..prefix).map(|i| Op::Same(i, i)).collect();
    if ma.len().saturating_mul(mb.len()) > 16_000_000 {
        ops.extend((0..ma.len()).map(|i| Op::Del(prefix + i, prefix)));
        ops.extend((0..mb.len()).map(|j| Op::Ins(prefix + ma.len(), prefix + j)));
    } else {
        // lcs[i][j] = LCS length of ma[i..] and mb[j..].
        let w = mb.len() + 1;
        let mut lcs = vec![0u32; (ma.len() + 1) * w];
        for i in (0..ma.len()).rev() {
            for j in (0..mb.len()).rev() {
                lcs[i * w + j] = if ma[i] == mb[j] {
                    lcs[(i + 1) * w + j + 1] + 1
                } else {
                    lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < ma.len() || j < mb.len() {
            if i < ma.len() && j < mb.len() && ma[i] == mb[j] {
                ops.push(Op::Same(prefix + i, prefix + j));
                i += 1;
                j += 1;
            } else if i < ma.len() && (j == mb.len() || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])
            {
                ops.push(Op::Del(prefix + i, prefix + j));
                i += 1;
            } else {
                ops.push(Op::Ins(prefix + i, prefix + j));
                j += 1;
            }
        }
    }
    let (sa, sb) = (a.len() - suffix, b.len() - suffix);
    ops.extend((0..suffix).map(|k| Op::Same(sa + k, sb + k)));
    ops
}
