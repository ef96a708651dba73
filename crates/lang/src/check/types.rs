//! The types of formula values.

use crate::spec::Value;
use serde::Serialize;

pub type DomainId = usize;

/// The values of a categorical column, e.g. `mnist.value` = {0, …, 9}.
#[derive(Clone, Debug, Serialize)]
pub struct Domain {
    pub name: String,
    pub values: Vec<String>,
    /// All values are integers, so arithmetic on them is meaningful.
    pub integer: bool,
    #[serde(skip)]
    pub raw: Vec<Value>,
}

impl Domain {
    pub fn contains(&self, v: &Value) -> bool {
        self.raw.contains(v)
    }
}

/// Where an instance comes from: a declared variable `x1`, or an element of a group `a`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    Var(String),
    Element(String),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Var(v) => write!(f, "{v}"),
            Origin::Element(g) => write!(f, "{g}[i]"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    Bool,
    Int,
    Real,
    Str,
    Category(DomainId),
    /// A bare value name (e.g. `flush`) that belongs to several categories; it takes the category
    /// of whatever it is compared with.
    Symbol(String),
    List(Box<Type>),
    Tuple(Vec<Type>),
    Instance {
        dataset: usize,
        origin: Origin,
    },
    Dataset(usize),
    /// One value per row of a dataset (or batch): `adult.race`, `over50k(adult)`.
    Column {
        dataset: usize,
        elem: Box<Type>,
    },
    Image,
    Vector,
    /// After an error, so that one mistake is reported once.
    Unknown,
}

/// A value's type, whether it depends on a learnable, and its value when it is a literal.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Typed {
    pub ty: Type,
    pub latent: bool,
    pub constant: Option<Value>,
}

impl Typed {
    pub fn observed(ty: Type) -> Typed {
        Typed { ty, latent: false, constant: None }
    }

    pub fn unknown() -> Typed {
        Typed::observed(Type::Unknown)
    }

    pub fn with_latent(mut self, latent: bool) -> Typed {
        self.latent |= latent;
        self
    }
}

/// The arithmetic view of a type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Num {
    Int,
    Real,
    Unknown,
}

impl Type {
    pub fn num(&self, domains: &[Domain]) -> Option<Num> {
        match self {
            Type::Bool | Type::Int => Some(Num::Int),
            Type::Category(d) if domains[*d].integer => Some(Num::Int),
            Type::Real => Some(Num::Real),
            Type::Unknown => Some(Num::Unknown),
            _ => None,
        }
    }

    /// The type of a cell of nested lists (a grid's cell; the type itself when not a list).
    pub fn cell(&self) -> &Type {
        match self {
            Type::List(t) => t.cell(),
            t => t,
        }
    }

    pub fn is_bool(&self) -> bool {
        matches!(self, Type::Bool | Type::Unknown)
    }

    /// The per-row type and the dataset, for a column; the type itself otherwise.
    pub fn split_column(&self) -> (Option<usize>, &Type) {
        match self {
            Type::Column { dataset, elem } => (Some(*dataset), elem),
            t => (None, t),
        }
    }

    pub fn show(&self, domains: &[Domain], datasets: &[String]) -> String {
        let list = |ts: &[Type]| ts.iter().map(|t| t.show(domains, datasets)).collect::<Vec<_>>().join(", ");
        match self {
            Type::Bool => "bool".into(),
            Type::Int => "int".into(),
            Type::Real => "real".into(),
            Type::Str => "str".into(),
            Type::Category(d) => format!("category {}", domains[*d].name),
            Type::Symbol(s) => format!("value `{s}`"),
            Type::List(t) => format!("list[{}]", t.show(domains, datasets)),
            Type::Tuple(ts) => format!("tuple[{}]", list(ts)),
            Type::Instance { dataset, .. } => format!("instance of {}", datasets[*dataset]),
            Type::Dataset(d) => format!("dataset {}", datasets[*d]),
            Type::Column { dataset, elem } => {
                format!("column of {} ({})", datasets[*dataset], elem.show(domains, datasets))
            }
            Type::Image => "image".into(),
            Type::Vector => "vector".into(),
            Type::Unknown => "unknown".into(),
        }
    }
}
