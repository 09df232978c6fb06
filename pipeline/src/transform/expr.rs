//! The expression language of transformation rules: small, documented, exact.
//!
//! ```text
//! expr     := or
//! or       := and ("or" and)*
//! and      := not ("and" not)*
//! not      := "not" not | compare
//! compare  := sum (("=" | "!=" | "<>" | "<" | "<=" | ">" | ">=") sum)?
//! sum      := product (("+" | "-") product)*
//! product  := unary (("*" | "/") unary)*
//! unary    := "-" unary | atom
//! atom     := number | 'text' | true | false | null | field | call | "(" expr ")"
//! field    := name                      a field of the record (after its rules)
//! call     := round(expr, digits) | abs(expr) | coalesce(expr, …)
//!           | sum(child.field) | min(child.field) | max(child.field) | count(child)
//! ```
//!
//! Numbers are exact fractions ([`Exact`]): `quantity * unit_price * (1 -
//! discount)` loses nothing, and a value is rounded once, when it is stored,
//! by the contract's rounding (or where `round(x, n)` says, by the same rule).
//! NULL propagates as in SQL: arithmetic and comparisons with NULL are NULL,
//! `sum`, `min` and `max` skip NULLs (`sum` of nothing is 0), `coalesce`
//! takes the first value that is not NULL. An overflow, a division by zero
//! or operands of the wrong kind make an [`EvalError`], which rejects the
//! record with its reason; nothing panics.

use std::fmt;

use super::exact::{Exact, ExactError, Round};
use super::value::Value;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    node: Node,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Literal(Value),
    Field(String),
    Neg(Box<Node>),
    Not(Box<Node>),
    Binary(Op, Box<Node>, Box<Node>),
    Round(Box<Node>, u32),
    Abs(Box<Node>),
    Coalesce(Vec<Node>),
    Aggregate(Aggregate, String, Option<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
    Count,
}

/// Why an expression does not parse, and where (a character offset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Characters before the fault.
    pub at: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at character {}: {}", self.at + 1, self.message)
    }
}

/// Why an expression has no value for a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    /// The kind of failure, for the reject's reason.
    pub failure: Failure,
    /// What happened, for the reject's detail.
    pub detail: String,
}

/// The kind of an [`EvalError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// A result does not fit.
    Overflow,
    /// A division by zero.
    DivisionByZero,
    /// Operands of kinds the operation does not take (text times a number).
    Type,
}

impl EvalError {
    fn exact(err: ExactError, what: &str) -> Self {
        let failure = match err {
            ExactError::DivisionByZero => Failure::DivisionByZero,
            ExactError::Overflow | ExactError::NeedsRounding | ExactError::NotANumber => {
                Failure::Overflow
            }
        };
        Self { failure, detail: format!("{err} in {what}") }
    }

    fn kinds(op: &str, a: &Value, b: &Value) -> Self {
        Self {
            failure: Failure::Type,
            detail: format!("{op} of {} {a} and {} {b}", a.kind(), b.kind()),
        }
    }
}

/// What an expression reads from: the fields of one record, and for
/// aggregates the records of a child relation.
pub trait Record {
    /// The value of `name`; `None` when the record has no such field.
    fn field(&self, name: &str) -> Option<Value>;

    /// The records of the child relation `name`; `None` when there is none.
    fn children(&self, name: &str) -> Option<Vec<&dyn Record>>;
}

impl Expr {
    /// Parses `text`.
    ///
    /// # Errors
    ///
    /// A [`ParseError`] at the first fault.
    ///
    /// # Example
    ///
    /// ```
    /// use triglot_pipeline::transform::{Expr, Exact, Record, Round, Value};
    ///
    /// struct Line;
    /// impl Record for Line {
    ///     fn field(&self, name: &str) -> Option<Value> {
    ///         let n = |t: &str| Value::Number(Exact::parse(t).unwrap());
    ///         match name { "quantity" => Some(n("3")), "unit_price" => Some(n("3.33")), "discount" => Some(n("0.1")), _ => None }
    ///     }
    ///     fn children(&self, _: &str) -> Option<Vec<&dyn Record>> { None }
    /// }
    ///
    /// let amount = Expr::parse("quantity * unit_price * (1 - discount)")?;
    /// let Value::Number(n) = amount.eval(&Line, Round::HalfUp).unwrap() else { unreachable!() };
    /// assert_eq!(n.to_text(2, Round::HalfUp).unwrap(), "8.99");
    /// # Ok::<(), triglot_pipeline::transform::ParseError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let tokens = lex(text)?;
        // Parsing, evaluating and dropping an expression recurse once per
        // level of its tree: bounded, so that no text can exhaust a stack.
        if let Some((at, _)) = tokens.get(MAX_TOKENS) {
            return Err(ParseError {
                at: *at,
                message: format!("an expression has at most {MAX_TOKENS} tokens"),
            });
        }
        let mut parser = Parser { tokens, pos: 0, end: text.chars().count(), depth: 0 };
        let node = parser.or()?;
        match parser.peek() {
            None => Ok(Self { node }),
            Some((at, token)) => {
                Err(ParseError { at: *at, message: format!("unexpected {}", token.describe()) })
            }
        }
    }

    /// The fields of the record the expression reads (not those of children).
    pub fn fields(&self) -> Vec<&str> {
        let mut out = Vec::new();
        walk(&self.node, &mut |node| {
            if let Node::Field(name) = node {
                out.push(name.as_str());
            }
        });
        out
    }

    /// The child relations and their fields the expression aggregates,
    /// `(relation, field)`; `field` is `None` for `count`.
    pub fn aggregated(&self) -> Vec<(&str, Option<&str>)> {
        let mut out = Vec::new();
        walk(&self.node, &mut |node| {
            if let Node::Aggregate(_, relation, field) = node {
                out.push((relation.as_str(), field.as_deref()));
            }
        });
        out
    }

    /// The value of the expression for `record`; `round` is the rounding
    /// of `round(x, n)`.
    ///
    /// # Errors
    ///
    /// An [`EvalError`] for an overflow, a division by zero, operands of the
    /// wrong kinds, or a field the record lacks.
    pub fn eval(&self, record: &dyn Record, round: Round) -> Result<Value, EvalError> {
        eval(&self.node, record, round)
    }
}

fn walk<'a>(node: &'a Node, visit: &mut dyn FnMut(&'a Node)) {
    visit(node);
    match node {
        Node::Neg(a) | Node::Not(a) | Node::Abs(a) | Node::Round(a, _) => walk(a, visit),
        Node::Binary(_, a, b) => {
            walk(a, visit);
            walk(b, visit);
        }
        Node::Coalesce(all) => all.iter().for_each(|n| walk(n, visit)),
        Node::Literal(_) | Node::Field(_) | Node::Aggregate(..) => {}
    }
}

fn number(value: &Value, what: &str) -> Result<Option<Exact>, EvalError> {
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => Ok(Some(*n)),
        other => Err(EvalError {
            failure: Failure::Type,
            detail: format!("{what} takes a number, not {} {other}", other.kind()),
        }),
    }
}

fn boolean(value: &Value, what: &str) -> Result<Option<bool>, EvalError> {
    match value {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        other => Err(EvalError {
            failure: Failure::Type,
            detail: format!("{what} takes true or false, not {} {other}", other.kind()),
        }),
    }
}

fn eval(node: &Node, record: &dyn Record, round: Round) -> Result<Value, EvalError> {
    Ok(match node {
        Node::Literal(v) => v.clone(),
        Node::Field(name) => record.field(name).ok_or_else(|| EvalError {
            failure: Failure::Type,
            detail: format!("the record has no field {name}"),
        })?,
        Node::Neg(a) => match number(&eval(a, record, round)?, "-")? {
            None => Value::Null,
            Some(n) => Value::Number(n.checked_neg().map_err(|e| EvalError::exact(e, "-"))?),
        },
        Node::Not(a) => match boolean(&eval(a, record, round)?, "not")? {
            None => Value::Null,
            Some(b) => Value::Bool(!b),
        },
        Node::Abs(a) => match number(&eval(a, record, round)?, "abs")? {
            None => Value::Null,
            Some(n) if n < Exact::ZERO => {
                Value::Number(n.checked_neg().map_err(|e| EvalError::exact(e, "abs"))?)
            }
            Some(n) => Value::Number(n),
        },
        Node::Round(a, digits) => match number(&eval(a, record, round)?, "round")? {
            None => Value::Null,
            Some(n) => {
                let units =
                    n.to_scaled(*digits, round).map_err(|e| EvalError::exact(e, "round"))?;
                Value::Number(
                    Exact::scaled(units, *digits).map_err(|e| EvalError::exact(e, "round"))?,
                )
            }
        },
        Node::Coalesce(all) => {
            for n in all {
                let v = eval(n, record, round)?;
                if v != Value::Null {
                    return Ok(v);
                }
            }
            Value::Null
        }
        Node::Aggregate(kind, relation, field) => {
            aggregate(*kind, relation, field.as_deref(), record)?
        }
        Node::Binary(op, a, b) => {
            let (a, b) = (eval(a, record, round)?, eval(b, record, round)?);
            binary(*op, &a, &b)?
        }
    })
}

fn aggregate(
    kind: Aggregate,
    relation: &str,
    field: Option<&str>,
    record: &dyn Record,
) -> Result<Value, EvalError> {
    let children = record.children(relation).ok_or_else(|| EvalError {
        failure: Failure::Type,
        detail: format!("the record has no child records {relation}"),
    })?;
    if kind == Aggregate::Count {
        return Ok(Value::Number(Exact::int(children.len() as i128)));
    }
    let field = field.unwrap_or_default();
    let mut acc: Option<Exact> = None;
    for child in children {
        let value = child.field(field).ok_or_else(|| EvalError {
            failure: Failure::Type,
            detail: format!("{relation} have no field {field}"),
        })?;
        let Some(n) = number(&value, "an aggregate")? else { continue };
        acc = Some(match (acc, kind) {
            (None, _) => n,
            (Some(a), Aggregate::Sum) => {
                a.checked_add(n).map_err(|e| EvalError::exact(e, "sum"))?
            }
            (Some(a), Aggregate::Min) => a.min(n),
            (Some(a), _) => a.max(n),
        });
    }
    Ok(match (acc, kind) {
        (Some(n), _) => Value::Number(n),
        (None, Aggregate::Sum) => Value::Number(Exact::ZERO),
        (None, _) => Value::Null,
    })
}

fn binary(op: Op, a: &Value, b: &Value) -> Result<Value, EvalError> {
    match op {
        Op::And | Op::Or => {
            let (x, y) = (boolean(a, "and/or")?, boolean(b, "and/or")?);
            return Ok(match (op, x, y) {
                (Op::And, Some(false), _) | (Op::And, _, Some(false)) => Value::Bool(false),
                (Op::Or, Some(true), _) | (Op::Or, _, Some(true)) => Value::Bool(true),
                (_, Some(x), Some(y)) => Value::Bool(if op == Op::And { x && y } else { x || y }),
                _ => Value::Null,
            });
        }
        _ => {}
    }
    if matches!(a, Value::Null) || matches!(b, Value::Null) {
        return Ok(Value::Null);
    }
    let symbol = match op {
        Op::Add => "+",
        Op::Sub => "-",
        Op::Mul => "*",
        Op::Div => "/",
        _ => "a comparison",
    };
    match op {
        Op::Add | Op::Sub | Op::Mul | Op::Div => {
            let (Value::Number(x), Value::Number(y)) = (a, b) else {
                return Err(EvalError::kinds(symbol, a, b));
            };
            let result = match op {
                Op::Add => x.checked_add(*y),
                Op::Sub => x.checked_sub(*y),
                Op::Mul => x.checked_mul(*y),
                _ => x.checked_div(*y),
            };
            Ok(Value::Number(result.map_err(|e| EvalError::exact(e, symbol))?))
        }
        _ => {
            let ordering = match (a, b) {
                (Value::Number(x), Value::Number(y)) => x.cmp(y),
                (Value::Text(x), Value::Text(y)) => x.cmp(y),
                (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
                (Value::Date(x), Value::Date(y)) => x.cmp(y),
                (Value::Timestamp(x), Value::Timestamp(y)) => x.cmp(y),
                _ => return Err(EvalError::kinds(symbol, a, b)),
            };
            use std::cmp::Ordering::{Equal, Greater, Less};
            Ok(Value::Bool(match op {
                Op::Eq => ordering == Equal,
                Op::Ne => ordering != Equal,
                Op::Lt => ordering == Less,
                Op::Le => ordering != Greater,
                Op::Gt => ordering == Greater,
                _ => ordering != Less,
            }))
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(Exact),
    Text(String),
    Name(String),
    Symbol(&'static str),
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Number(_) => "a number".into(),
            Token::Text(t) => format!("text {t:?}"),
            Token::Name(n) => format!("{n:?}"),
            Token::Symbol(s) => format!("{s:?}"),
        }
    }
}

const SYMBOLS: [&str; 14] =
    ["<=", ">=", "<>", "!=", "==", "=", "<", ">", "+", "-", "*", "/", "(", ")"];

fn lex(text: &str) -> Result<Vec<(usize, Token)>, ParseError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == ',' || c == '.' && !chars.get(i + 1).is_some_and(char::is_ascii_digit) {
            out.push((i, Token::Symbol(if c == ',' { "," } else { "." })));
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let literal: String = chars[start..i].iter().collect();
            let n = Exact::parse(&literal).map_err(|e| ParseError {
                at: start,
                message: format!("{literal:?} is not a number ({e})"),
            })?;
            out.push((start, Token::Number(n)));
        } else if c == '\'' {
            let start = i;
            let mut value = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err(ParseError {
                            at: start,
                            message: "text without its closing '".into(),
                        });
                    }
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        value.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(&other) => {
                        value.push(other);
                        i += 1;
                    }
                }
            }
            out.push((start, Token::Text(value)));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((start, Token::Name(chars[start..i].iter().collect())));
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let Some(symbol) = SYMBOLS.iter().find(|s| rest.starts_with(**s)) else {
                return Err(ParseError { at: i, message: format!("unexpected {c:?}") });
            };
            out.push((i, Token::Symbol(symbol)));
            i += symbol.chars().count();
        }
    }
    Ok(out)
}

/// The most tokens an expression has (names, numbers, texts, symbols).
pub const MAX_TOKENS: usize = 500;

/// The most levels of parentheses, calls, `not` and unary minus an
/// expression nests.
pub const MAX_NESTING: usize = 64;

struct Parser {
    tokens: Vec<(usize, Token)>,
    pos: usize,
    end: usize,
    /// Levels of nesting entered.
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&(usize, Token)> {
        self.tokens.get(self.pos)
    }

    fn at(&self) -> usize {
        self.peek().map_or(self.end, |(at, _)| *at)
    }

    fn eat_symbol(&mut self, symbol: &str) -> bool {
        if matches!(self.peek(), Some((_, Token::Symbol(s))) if *s == symbol) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some((_, Token::Name(n))) if n.eq_ignore_ascii_case(word)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, symbol: &str) -> Result<(), ParseError> {
        if self.eat_symbol(symbol) {
            Ok(())
        } else {
            let found = self.peek().map_or("the end".into(), |(_, t)| t.describe());
            Err(ParseError {
                at: self.at(),
                message: format!("expected {symbol:?}, found {found}"),
            })
        }
    }

    /// Runs `f` one level of nesting deeper; refused past [`MAX_NESTING`].
    fn nested(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<Node, ParseError>,
    ) -> Result<Node, ParseError> {
        if self.depth >= MAX_NESTING {
            return Err(ParseError {
                at: self.at(),
                message: format!("an expression nests at most {MAX_NESTING} levels"),
            });
        }
        self.depth += 1;
        let node = f(self);
        self.depth -= 1;
        node
    }

    fn or(&mut self) -> Result<Node, ParseError> {
        let mut left = self.and()?;
        while self.eat_word("or") {
            left = Node::Binary(Op::Or, Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Node, ParseError> {
        let mut left = self.not()?;
        while self.eat_word("and") {
            left = Node::Binary(Op::And, Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Node, ParseError> {
        if self.eat_word("not") {
            Ok(Node::Not(Box::new(self.nested(Self::not)?)))
        } else {
            self.compare()
        }
    }

    fn compare(&mut self) -> Result<Node, ParseError> {
        let left = self.sum()?;
        for (symbol, op) in [
            ("=", Op::Eq),
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<>", Op::Ne),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("<", Op::Lt),
            (">", Op::Gt),
        ] {
            if self.eat_symbol(symbol) {
                return Ok(Node::Binary(op, Box::new(left), Box::new(self.sum()?)));
            }
        }
        Ok(left)
    }

    fn sum(&mut self) -> Result<Node, ParseError> {
        let mut left = self.product()?;
        loop {
            let op = if self.eat_symbol("+") {
                Op::Add
            } else if self.eat_symbol("-") {
                Op::Sub
            } else {
                return Ok(left);
            };
            left = Node::Binary(op, Box::new(left), Box::new(self.product()?));
        }
    }

    fn product(&mut self) -> Result<Node, ParseError> {
        let mut left = self.unary()?;
        loop {
            let op = if self.eat_symbol("*") {
                Op::Mul
            } else if self.eat_symbol("/") {
                Op::Div
            } else {
                return Ok(left);
            };
            left = Node::Binary(op, Box::new(left), Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> Result<Node, ParseError> {
        if self.eat_symbol("-") {
            Ok(Node::Neg(Box::new(self.nested(Self::unary)?)))
        } else {
            self.atom()
        }
    }

    fn atom(&mut self) -> Result<Node, ParseError> {
        let at = self.at();
        let Some((_, token)) = self.tokens.get(self.pos).cloned() else {
            return Err(ParseError { at, message: "an expression ends too early".into() });
        };
        self.pos += 1;
        match token {
            Token::Number(n) => Ok(Node::Literal(Value::Number(n))),
            Token::Text(t) => Ok(Node::Literal(Value::Text(t))),
            Token::Symbol("(") => {
                let inner = self.nested(Self::or)?;
                self.expect(")")?;
                Ok(inner)
            }
            Token::Symbol(s) => Err(ParseError { at, message: format!("unexpected {s:?}") }),
            Token::Name(name) => match name.to_ascii_lowercase().as_str() {
                "true" => Ok(Node::Literal(Value::Bool(true))),
                "false" => Ok(Node::Literal(Value::Bool(false))),
                "null" => Ok(Node::Literal(Value::Null)),
                function if self.eat_symbol("(") => self.nested(|p| p.call(function, at)),
                _ => Ok(Node::Field(name)),
            },
        }
    }

    fn call(&mut self, function: &str, at: usize) -> Result<Node, ParseError> {
        let node = match function {
            "round" => {
                let value = self.or()?;
                self.expect(",")?;
                let digits_at = self.at();
                let digits = match self.tokens.get(self.pos) {
                    Some((_, Token::Number(n))) => n.to_scaled(0, Round::Refuse).ok(),
                    _ => None,
                }
                .and_then(|d| u32::try_from(d).ok())
                .filter(|d| *d <= 18)
                .ok_or_else(|| ParseError {
                    at: digits_at,
                    message: "round(x, n) takes a whole number of digits from 0 to 18".into(),
                })?;
                self.pos += 1;
                Node::Round(Box::new(value), digits)
            }
            "abs" => Node::Abs(Box::new(self.or()?)),
            "coalesce" => {
                let mut all = vec![self.or()?];
                while self.eat_symbol(",") {
                    all.push(self.or()?);
                }
                Node::Coalesce(all)
            }
            "sum" | "min" | "max" | "count" => {
                let kind = match function {
                    "sum" => Aggregate::Sum,
                    "min" => Aggregate::Min,
                    "max" => Aggregate::Max,
                    _ => Aggregate::Count,
                };
                let name = |p: &mut Parser| match p.tokens.get(p.pos).cloned() {
                    Some((_, Token::Name(n))) => {
                        p.pos += 1;
                        Ok(n)
                    }
                    _ => Err(ParseError {
                        at: p.at(),
                        message: format!(
                            "{function}(…) takes child.field, as in sum(lines.amount)"
                        ),
                    }),
                };
                let relation = name(self)?;
                let field = if kind == Aggregate::Count {
                    None
                } else {
                    self.expect(".")?;
                    Some(name(self)?)
                };
                Node::Aggregate(kind, relation, field)
            }
            other => {
                return Err(ParseError {
                    at,
                    message: format!(
                        "unknown function {other:?} (round, abs, coalesce, sum, min, max, count)"
                    ),
                });
            }
        };
        self.expect(")")?;
        Ok(node)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    struct Rec {
        fields: HashMap<&'static str, Value>,
        lines: Vec<Rec>,
    }

    impl Record for Rec {
        fn field(&self, name: &str) -> Option<Value> {
            self.fields.get(name).cloned()
        }

        fn children(&self, name: &str) -> Option<Vec<&dyn Record>> {
            (name == "lines").then(|| self.lines.iter().map(|l| l as &dyn Record).collect())
        }
    }

    fn n(text: &str) -> Value {
        Value::Number(Exact::parse(text).expect("a number"))
    }

    fn rec(fields: &[(&'static str, Value)], lines: Vec<Rec>) -> Rec {
        Rec { fields: fields.iter().cloned().collect(), lines }
    }

    fn eval(text: &str, record: &Rec) -> Result<Value, EvalError> {
        Expr::parse(text).expect("parses").eval(record, Round::HalfUp)
    }

    #[test]
    fn the_documented_examples_compute_exactly() {
        let line = rec(
            &[("quantity", n("3")), ("extended_price", n("9.99")), ("discount", n("0.10"))],
            vec![],
        );
        assert_eq!(eval("extended_price / quantity", &line), Ok(n("3.33")));
        assert_eq!(eval("round(extended_price * (1 - discount), 2)", &line), Ok(n("8.99")));
        let order = rec(
            &[("total", n("12.50"))],
            vec![
                rec(&[("amount", n("10"))], vec![]),
                rec(&[("amount", n("2.5"))], vec![]),
                rec(&[("amount", Value::Null)], vec![]),
            ],
        );
        assert_eq!(eval("sum(lines.amount)", &order), Ok(n("12.5")));
        assert_eq!(eval("total = sum(lines.amount)", &order), Ok(Value::Bool(true)));
        assert_eq!(eval("count(lines)", &order), Ok(n("3")));
        assert_eq!(eval("max(lines.amount) - min(lines.amount)", &order), Ok(n("7.5")));
    }

    #[test]
    fn null_propagates_as_in_sql() {
        let r = rec(&[("a", Value::Null), ("b", n("2"))], vec![]);
        assert_eq!(eval("a + b", &r), Ok(Value::Null));
        assert_eq!(eval("a = b", &r), Ok(Value::Null));
        assert_eq!(eval("coalesce(a, b, 7)", &r), Ok(n("2")));
        assert_eq!(eval("a = 1 or b = 2", &r), Ok(Value::Bool(true)));
        assert_eq!(eval("a = 1 and b = 3", &r), Ok(Value::Bool(false)));
        assert_eq!(eval("sum(lines.x)", &r), Ok(n("0")));
    }

    #[test]
    fn failures_are_errors_with_their_kind_never_panics() {
        let r = rec(
            &[("zero", n("0")), ("big", n(&"9".repeat(38))), ("name", Value::Text("x".into()))],
            vec![],
        );
        let failure = |text: &str| eval(text, &r).unwrap_err().failure;
        assert_eq!(failure("1 / zero"), Failure::DivisionByZero);
        assert_eq!(failure("big * big"), Failure::Overflow);
        assert_eq!(failure("name * 2"), Failure::Type);
        assert_eq!(failure("missing + 1"), Failure::Type);
        assert_eq!(failure("sum(other.x)"), Failure::Type);
    }

    #[test]
    fn parse_errors_say_where() {
        let at = |text: &str| Expr::parse(text).unwrap_err().at;
        assert_eq!(at("a +"), 3);
        assert_eq!(at("a $ b"), 2);
        assert_eq!(at("round(a, x)"), 9);
        assert_eq!(at("frobnicate(a)"), 0);
        assert_eq!(at("(a + b"), 6);
        assert_eq!(at("'open"), 0);
        assert!(Expr::parse("sum(lines)").is_err());
    }

    #[test]
    fn deep_or_long_expressions_are_refused_not_a_stack_overflow() {
        let deep = format!("{}1{}", "(".repeat(7_000), ")".repeat(7_000));
        let err = Expr::parse(&deep).unwrap_err();
        assert!(err.message.contains("at most 500 tokens"), "{err:?}");
        let nested = format!("{}1{}", "(".repeat(100), ")".repeat(100));
        let err = Expr::parse(&nested).unwrap_err();
        assert!(err.message.contains("nests at most 64 levels"), "{err:?}");
        assert_eq!(err.at, 65, "just inside the 65th parenthesis: {err:?}");
        assert!(Expr::parse(&"-".repeat(200)).unwrap_err().message.contains("64 levels"));
        assert!(Expr::parse(&"not ".repeat(100)).unwrap_err().message.contains("64 levels"));
        let calls = format!("{}1{}", "coalesce(".repeat(70), ")".repeat(70));
        assert!(Expr::parse(&calls).unwrap_err().message.contains("64 levels"));
        // As deep as allowed, and as long: parsed and evaluated.
        let ok = format!("{}1{}", "(".repeat(64), ")".repeat(64));
        assert_eq!(eval(&ok, &rec(&[], vec![])).unwrap(), n("1"));
        let long = vec!["1"; 250].join(" + ");
        assert_eq!(eval(&long, &rec(&[], vec![])).unwrap(), n("250"));
    }

    #[test]
    fn fields_and_aggregates_are_listed_for_checking_a_contract() {
        let e = Expr::parse("coalesce(a, 0) + sum(lines.amount) * count(lines) - b").unwrap();
        assert_eq!(e.fields(), ["a", "b"]);
        assert_eq!(e.aggregated(), [("lines", Some("amount")), ("lines", None)]);
    }

    #[test]
    fn text_dates_and_comparisons() {
        let day = |s: &str| Value::Date(chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap());
        let r = rec(
            &[
                ("status", Value::Text("it's".into())),
                ("shipped", day("1996-03-01")),
                ("ordered", day("1996-02-01")),
            ],
            vec![],
        );
        assert_eq!(eval("status = 'it''s'", &r), Ok(Value::Bool(true)));
        assert_eq!(
            eval("shipped >= ordered and not (status <> 'it''s')", &r),
            Ok(Value::Bool(true))
        );
        assert_eq!(eval("shipped < 3", &r).unwrap_err().failure, Failure::Type);
    }
}
