//! The difference between two versions of a directory: files added, removed and changed, and a line diff of
//! each changed file (longest common subsequence of lines, with the common prefix and suffix taken off first).

/// One line of a line diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// In both versions.
    Same(String),
    /// Only in the newer version.
    Added(String),
    /// Only in the older version.
    Removed(String),
}

impl Line {
    /// The CSS class of the line.
    pub fn class(&self) -> &'static str {
        match self {
            Line::Same(_) => "same",
            Line::Added(_) => "add",
            Line::Removed(_) => "del",
        }
    }

    /// The marker shown before the line.
    pub fn marker(&self) -> &'static str {
        match self {
            Line::Same(_) => " ",
            Line::Added(_) => "+",
            Line::Removed(_) => "-",
        }
    }

    /// The line's text.
    pub fn text(&self) -> &str {
        match self {
            Line::Same(t) | Line::Added(t) | Line::Removed(t) => t,
        }
    }
}

/// Above this many cells (lines × lines of the differing middle parts) the diff shows the middle as removed
/// then added instead of searching for common lines, bounding time and memory.
const MAX_CELLS: usize = 4_000_000;

/// The lines of `new` against `old`: every line of both, in order, marked same, added or removed.
pub fn lines(old: &str, new: &str) -> Vec<Line> {
    let a: Vec<&str> = old.split_terminator('\n').collect();
    let b: Vec<&str> = new.split_terminator('\n').collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut out: Vec<Line> = a[..prefix]
        .iter()
        .map(|l| Line::Same((*l).into()))
        .collect();
    if ma.len().saturating_mul(mb.len()) > MAX_CELLS {
        out.extend(ma.iter().map(|l| Line::Removed((*l).into())));
        out.extend(mb.iter().map(|l| Line::Added((*l).into())));
    } else {
        // lcs[i][j]: the longest common subsequence of ma[i..] and mb[j..].
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
                out.push(Line::Same(ma[i].into()));
                i += 1;
                j += 1;
            } else if i < ma.len() && (j == mb.len() || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])
            {
                // Removed lines first, then the added ones, as unified diffs show a replacement.
                out.push(Line::Removed(ma[i].into()));
                i += 1;
            } else {
                out.push(Line::Added(mb[j].into()));
                j += 1;
            }
        }
    }
    out.extend(
        a[a.len() - suffix..]
            .iter()
            .map(|l| Line::Same((*l).into())),
    );
    out
}

/// How a file differs between two versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileChange {
    /// Only in the newer version.
    Added,
    /// Only in the older version.
    Removed,
    /// In both, with different contents: the line diff.
    Changed(Vec<Line>),
}

/// The files that differ between `old` and `new` (name, contents), by name; identical files are left out.
pub fn files(old: &[(String, String)], new: &[(String, String)]) -> Vec<(String, FileChange)> {
    let mut names: Vec<&str> = old.iter().chain(new).map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let find = |list: &'_ [(String, String)], name: &str| {
        list.iter().find(|(n, _)| n == name).map(|(_, t)| t.clone())
    };
    names
        .into_iter()
        .filter_map(|name| {
            let change = match (find(old, name), find(new, name)) {
                (None, Some(_)) => FileChange::Added,
                (Some(_), None) => FileChange::Removed,
                (Some(a), Some(b)) if a != b => FileChange::Changed(lines(&a, &b)),
                _ => return None,
            };
            Some((name.to_owned(), change))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(lines: &[Line]) -> String {
        lines
            .iter()
            .map(|l| format!("{}{}\n", l.marker(), l.text()))
            .collect()
    }

    #[test]
    fn a_changed_line_is_removed_then_added() {
        let d = lines("a\nb\nc\nd\n", "a\nB\nc\nd\ne\n");
        assert_eq!(show(&d), " a\n-b\n+B\n c\n d\n+e\n");
    }

    #[test]
    fn identical_and_empty_texts() {
        assert_eq!(show(&lines("x\ny", "x\ny")), " x\n y\n");
        assert_eq!(show(&lines("", "x")), "+x\n");
        assert_eq!(show(&lines("x", "")), "-x\n");
    }

    #[test]
    fn huge_middles_fall_back_to_remove_then_add() {
        let old: String = (0..3000).map(|i| format!("o{i}\n")).collect();
        let new: String = (0..3000).map(|i| format!("n{i}\n")).collect();
        let d = lines(&old, &new);
        assert_eq!(d.len(), 6000);
        assert!(matches!(d[0], Line::Removed(_)) && matches!(d[5999], Line::Added(_)));
    }

    #[test]
    fn files_are_added_removed_or_changed() {
        let f = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(n, t)| (n.to_string(), t.to_string()))
                .collect()
        };
        let old = f(&[("1.sql", "a"), ("2.sql", "b"), ("3.sql", "c")]);
        let new = f(&[("1.sql", "a"), ("2.sql", "B"), ("4.sql", "d")]);
        let d = files(&old, &new);
        let names: Vec<_> = d
            .iter()
            .map(|(n, c)| {
                let kind = match c {
                    FileChange::Added => "added",
                    FileChange::Removed => "removed",
                    FileChange::Changed(_) => "changed",
                };
                format!("{n} {kind}")
            })
            .collect();
        assert_eq!(names, ["2.sql changed", "3.sql removed", "4.sql added"]);
    }
}
