//! Atlas's terminal colours for the plan's text output (Go's `%q` quoting lives in `crate::quote`).

/// Atlas's colours (the `fatih/color` escapes its templates use), or plain text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paint {
    on: bool,
}

impl Paint {
    pub(crate) fn new(on: bool) -> Self {
        Self { on }
    }

    fn wrap(self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }

    pub(crate) fn cyan(self, s: &str) -> String {
        self.wrap("36", s)
    }

    pub(crate) fn yellow(self, s: &str) -> String {
        self.wrap("33", s)
    }

    /// `HiGreen`, which Atlas's templates call `green`.
    pub(crate) fn green(self, s: &str) -> String {
        self.wrap("92", s)
    }

    /// `HiRed`, which Atlas's templates call `red`.
    pub(crate) fn red(self, s: &str) -> String {
        self.wrap("91", s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paint_matches_fatih_color() {
        let p = Paint::new(true);
        assert_eq!(p.yellow("--"), "\x1b[33m--\x1b[0m");
        assert_eq!(p.cyan("1"), "\x1b[36m1\x1b[0m");
        assert_eq!(p.green("OK"), "\x1b[92mOK\x1b[0m");
        assert_eq!(p.red("ERROR:"), "\x1b[91mERROR:\x1b[0m");
        assert_eq!(Paint::new(false).red("x"), "x");
    }
}
