//! The Sigma `condition` language: identifiers, `and`/`or`/`not`, parentheses, and
//! `1 of pattern*` / `all of pattern*` / `… of them`, compiled to a tree over selection indexes.

/// A compiled condition over the rule's detection identifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    /// The identifier at this index matched.
    Sel(usize),
    /// Negation.
    Not(Box<Cond>),
    /// All of them.
    And(Vec<Cond>),
    /// Any of them.
    Or(Vec<Cond>),
}

impl Cond {
    /// Evaluates with `sel(i)` deciding identifier `i`; short-circuits left to right.
    #[inline]
    pub fn eval(&self, sel: &mut impl FnMut(usize) -> bool) -> bool {
        match self {
            Cond::Sel(i) => sel(*i),
            Cond::Not(c) => !c.eval(sel),
            Cond::And(cs) => cs.iter().all(|c| c.eval(sel)),
            Cond::Or(cs) => cs.iter().any(|c| c.eval(sel)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    And,
    Or,
    Not,
    Of,
    All,
    Count(usize),
    Word(String),
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '(' {
            chars.next();
            out.push(Token::Open);
        } else if c == ')' {
            chars.next();
            out.push(Token::Close);
        } else if c == '|' {
            return Err(
                "aggregation after `|` in condition (deprecated Sigma v1 syntax; \
                        use a correlation rule)"
                    .into(),
            );
        } else {
            let mut w = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '(' || c == ')' || c == '|' {
                    break;
                }
                w.push(c);
                chars.next();
            }
            out.push(match w.to_ascii_lowercase().as_str() {
                "and" => Token::And,
                "or" => Token::Or,
                "not" => Token::Not,
                "of" => Token::Of,
                "all" => Token::All,
                n if n.parse::<usize>().is_ok() => Token::Count(n.parse().unwrap_or(1)),
                _ => Token::Word(w),
            });
        }
    }
    Ok(out)
}

/// Matches an identifier against a pattern with `*` wildcards.
fn wildcard(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, rest)) => {
            let Some(tail) = name.strip_prefix(head) else {
                return false;
            };
            if rest.is_empty() {
                return true;
            }
            (0..=tail.len())
                .filter(|&i| tail.is_char_boundary(i))
                .any(|i| wildcard(rest, &tail[i..]))
        }
    }
}

struct Parser<'a> {
    tokens: Vec<Token>,
    pos: usize,
    names: &'a [String],
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn or(&mut self) -> Result<Cond, String> {
        let mut parts = vec![self.and()?];
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Cond::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Cond, String> {
        let mut parts = vec![self.not()?];
        while self.peek() == Some(&Token::And) {
            self.pos += 1;
            parts.push(self.not()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Cond::And(parts)
        })
    }

    fn not(&mut self) -> Result<Cond, String> {
        if self.peek() == Some(&Token::Not) {
            self.pos += 1;
            return Ok(Cond::Not(Box::new(self.not()?)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Cond, String> {
        match self.next() {
            Some(Token::Open) => {
                let c = self.or()?;
                match self.next() {
                    Some(Token::Close) => Ok(c),
                    _ => Err("unbalanced parentheses in condition".into()),
                }
            }
            Some(Token::Count(n)) => self.of(Some(n)),
            Some(Token::All) => self.of(None),
            Some(Token::Word(w)) => match self.names.iter().position(|n| *n == w) {
                Some(i) => Ok(Cond::Sel(i)),
                None => Err(format!("condition names `{w}`, which is not in detection")),
            },
            Some(t) => Err(format!("unexpected `{t:?}` in condition")),
            None => Err("condition ends early".into()),
        }
    }

    /// `N of pattern` (`Some(N)`) or `all of pattern` (`None`).
    fn of(&mut self, count: Option<usize>) -> Result<Cond, String> {
        if self.next() != Some(Token::Of) {
            return Err("expected `of` in condition".into());
        }
        let Some(Token::Word(pattern)) = self.next() else {
            return Err("expected a name pattern or `them` after `of`".into());
        };
        let picked: Vec<Cond> = self
            .names
            .iter()
            .enumerate()
            .filter(|(_, n)| {
                if pattern == "them" {
                    !n.starts_with('_')
                } else {
                    wildcard(&pattern, n)
                }
            })
            .map(|(i, _)| Cond::Sel(i))
            .collect();
        if picked.is_empty() {
            return Err(format!("`of {pattern}` matches no detection identifier"));
        }
        Ok(match count {
            None => Cond::And(picked),
            Some(1) => Cond::Or(picked),
            Some(n) => {
                return Err(format!(
                    "`{n} of {pattern}`: only `1 of` and `all of` are defined by Sigma"
                ));
            }
        })
    }
}

/// Parses `text` over the detection identifiers `names`.
pub fn parse(text: &str, names: &[String]) -> Result<Cond, String> {
    let mut p = Parser {
        tokens: tokens(text)?,
        pos: 0,
        names,
    };
    let c = p.or()?;
    if p.pos != p.tokens.len() {
        return Err(format!("unexpected text after condition: `{text}`"));
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        ["selection", "sel_a", "sel_b", "filter_main", "_private"]
            .map(String::from)
            .to_vec()
    }

    fn eval(c: &Cond, truth: &[bool]) -> bool {
        c.eval(&mut |i| truth[i])
    }

    #[test]
    fn precedence_and_of() {
        let c = parse("selection and 1 of sel_* and not filter_main", &names()).unwrap();
        assert!(eval(&c, &[true, false, true, false, false]));
        assert!(!eval(&c, &[true, false, true, true, false]));
        let c = parse("selection or sel_a and sel_b", &names()).unwrap();
        assert!(eval(&c, &[true, false, false, false, false]));
        let c = parse("all of them", &names()).unwrap();
        assert_eq!(c, Cond::And((0..4).map(Cond::Sel).collect()));
        let c = parse("(selection or sel_a)\n and not (sel_b)", &names()).unwrap();
        assert!(eval(&c, &[false, true, false, false, false]));
    }

    #[test]
    fn errors_are_specific() {
        assert!(
            parse("selection | count() > 5", &names())
                .unwrap_err()
                .contains("aggregation")
        );
        assert!(parse("nope", &names()).unwrap_err().contains("nope"));
        assert!(parse("(selection", &names()).is_err());
        assert!(parse("1 of x*", &names()).is_err());
    }

    #[test]
    fn wildcard_names() {
        assert!(wildcard("sel_*", "sel_a"));
        assert!(wildcard("*_main", "filter_main"));
        assert!(!wildcard("sel_*", "selection"));
        assert!(wildcard("a*b*c", "aXbYc"));
    }
}
