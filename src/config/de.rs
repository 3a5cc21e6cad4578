//! A serde deserializer over the spanned [`Node`] tree.
//!
//! It does what a plain YAML deserializer cannot: every error carries the span of the key or
//! value it is about, unknown keys are collected (all of them, with "did you mean") instead of
//! stopping at the first, [`Sp<T>`] fields receive their value's span, and [`Field<T>`] keys
//! are read one by one: a key with a bad value is reported and marked invalid while the rest
//! of its entry is still read, so one typo does not make the whole entry disappear.

use std::cell::RefCell;
use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, Visitor};

use super::node::{Kind, Node, Span};

const SP_MARKER: &str = "$zfleet::Sp";
const FIELD_MARKER: &str = "$zfleet::Field";

/// A value with the span of the YAML node it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sp<T> {
    pub value: T,
    pub span: Span,
}

impl<T> std::ops::Deref for Sp<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<'de, T: de::Deserialize<'de>> de::Deserialize<'de> for Sp<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SpVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: de::Deserialize<'de>> Visitor<'de> for SpVisitor<T> {
            type Value = Sp<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut a: A) -> Result<Sp<T>, A::Error> {
                let offset: u64 = a
                    .next_element()?
                    .ok_or_else(|| de::Error::custom("span offset"))?;
                let len: u64 = a
                    .next_element()?
                    .ok_or_else(|| de::Error::custom("span length"))?;
                let value: T = a
                    .next_element()?
                    .ok_or_else(|| de::Error::custom("spanned value"))?;
                Ok(Sp {
                    value,
                    span: Span {
                        offset: usize::try_from(offset).unwrap_or(0),
                        len: usize::try_from(len).unwrap_or(0),
                    },
                })
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Sp<T>, D::Error> {
                Ok(Sp {
                    value: T::deserialize(d)?,
                    span: Span::default(),
                })
            }
        }
        d.deserialize_newtype_struct(SP_MARKER, SpVisitor(std::marker::PhantomData))
    }
}

impl<T: JsonSchema> JsonSchema for Sp<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

/// The value of one key of an entry, read on its own. `Invalid` means it was written but is
/// unusable (or a required key is missing); its problem is reported already, and checks that
/// need the value skip it rather than guess. Optional keys are `Option<Field<T>>`: `None` when
/// the key is absent or null.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field<T> {
    Ok(T),
    Invalid,
}

impl<T> Field<T> {
    /// The value, if it is usable.
    pub fn ok(&self) -> Option<&T> {
        match self {
            Field::Ok(v) => Some(v),
            Field::Invalid => None,
        }
    }
}

/// Reading an optional key: absent, invalid or given.
pub trait OptField<T> {
    /// The value, if the key is given and usable.
    fn given(&self) -> Option<&T>;
    /// Whether the key is written but unusable.
    fn invalid(&self) -> bool;
}

impl<T> OptField<T> for Option<Field<T>> {
    fn given(&self) -> Option<&T> {
        self.as_ref().and_then(Field::ok)
    }
    fn invalid(&self) -> bool {
        matches!(self, Some(Field::Invalid))
    }
}

impl<'de, T: de::Deserialize<'de>> de::Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Lenient<T>(std::marker::PhantomData<T>);
        impl<'de, T: de::Deserialize<'de>> Visitor<'de> for Lenient<T> {
            type Value = Field<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value")
            }
            // A missing key (serde asks for an option), or a required key written as null:
            // the deserializer reports both.
            fn visit_none<E: de::Error>(self) -> Result<Field<T>, E> {
                Ok(Field::Invalid)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Field<T>, D::Error> {
                d.deserialize_newtype_struct(FIELD_MARKER, self)
            }
            // The value comes as a one-element sequence; no element means it was bad and its
            // problem has been recorded.
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut a: A) -> Result<Field<T>, A::Error> {
                Ok(match a.next_element()? {
                    Some(v) => Field::Ok(v),
                    None => Field::Invalid,
                })
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<Field<T>, D::Error> {
                T::deserialize(d).map(Field::Ok)
            }
        }
        d.deserialize_option(Lenient(std::marker::PhantomData))
    }
}

impl<T: JsonSchema> JsonSchema for Field<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeErrorKind {
    /// A key the type does not have.
    UnknownKey {
        key: String,
        suggestion: Option<String>,
    },
    /// A required key is missing.
    MissingKey(String),
    /// A value of the wrong type.
    Type,
    /// A value of the right type but not one of the allowed ones.
    Value,
}

/// A deserialization problem with the span it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeError {
    pub kind: DeErrorKind,
    pub message: String,
    pub span: Option<Span>,
    /// Advice for this very value, better than the generic one of its kind.
    pub hint: Option<String>,
}

impl DeError {
    fn at(mut self, span: Span) -> Self {
        if self.span.is_none() {
            self.span = Some(span);
        }
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            kind: DeErrorKind::Value,
            message: msg.to_string(),
            span: None,
            hint: None,
        }
    }

    fn invalid_type(unexp: de::Unexpected, exp: &dyn de::Expected) -> Self {
        let found = match unexp {
            de::Unexpected::Bool(b) => format!("the boolean `{b}`"),
            de::Unexpected::Unsigned(n) => format!("the integer `{n}`"),
            de::Unexpected::Signed(n) => format!("the integer `{n}`"),
            de::Unexpected::Float(n) => format!("the number `{n}`"),
            de::Unexpected::Str(s) => format!("the string {s:?}"),
            de::Unexpected::Unit => "null".to_string(),
            de::Unexpected::Seq => "a list".to_string(),
            de::Unexpected::Map => "a mapping".to_string(),
            other => other.to_string(),
        };
        DeError {
            kind: DeErrorKind::Type,
            message: format!("expected {exp}, found {found}"),
            span: None,
            hint: None,
        }
    }

    fn invalid_value(unexp: de::Unexpected, exp: &dyn de::Expected) -> Self {
        DeError {
            kind: DeErrorKind::Value,
            message: format!("invalid value {unexp}, expected {exp}"),
            span: None,
            hint: None,
        }
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let list = expected
            .iter()
            .map(|v| format!("`{v}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut message = format!("unknown value `{variant}`, expected one of {list}");
        if let Some(s) = suggest(variant, expected) {
            message.push_str(&format!(" (did you mean `{s}`?)"));
        }
        DeError {
            kind: DeErrorKind::Value,
            message,
            span: None,
            hint: None,
        }
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        DeError {
            kind: DeErrorKind::UnknownKey {
                key: field.to_string(),
                suggestion: suggest(field, expected).map(str::to_string),
            },
            message: format!("unknown key `{field}`"),
            span: None,
            hint: None,
        }
    }

    fn missing_field(field: &'static str) -> Self {
        DeError {
            kind: DeErrorKind::MissingKey(field.to_string()),
            message: format!("missing key `{field}`"),
            span: None,
            hint: None,
        }
    }
}

/// The closest of `candidates` to `word`, if it is close enough to be a likely typo.
pub fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(word, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Shared state of one deserialization: the source text, and the problems found so far that
/// did not stop it (unknown keys, missing keys, bad values of [`Field`]s).
pub struct Ctx<'s> {
    pub source: &'s str,
    pub errors: RefCell<Vec<DeError>>,
}

impl<'s> Ctx<'s> {
    pub fn new(source: &'s str) -> Self {
        Ctx {
            source,
            errors: RefCell::new(Vec::new()),
        }
    }

    /// Deserializes `node` as `T`. Problems inside [`Field`]s, unknown and missing keys go to
    /// [`Ctx::errors`]; any other problem is returned.
    pub fn parse<'de, T: de::Deserialize<'de>>(
        &self,
        node: &Node<'_>,
        key: Option<Span>,
    ) -> Result<T, DeError> {
        T::deserialize(NodeDe {
            node,
            ctx: self,
            key_span: key,
        })
    }
}

#[derive(Clone, Copy)]
struct NodeDe<'a, 's> {
    node: &'a Node<'a>,
    ctx: &'a Ctx<'s>,
    /// Span of the key this value belongs to: containers are reported at their key.
    key_span: Option<Span>,
}

impl NodeDe<'_, '_> {
    fn error_span(&self) -> Span {
        match self.node.kind {
            Kind::Seq(_) | Kind::Map(_) => self.key_span.unwrap_or(self.node.span),
            _ => self.node.span,
        }
    }

    fn type_error(&self, expected: &str) -> DeError {
        let found = match &self.node.kind {
            Kind::Str(s) if s.len() <= 40 && !s.contains(['\n', '\r']) => {
                format!("the string {s:?}")
            }
            _ => self.node.describe().to_string(),
        };
        DeError {
            kind: DeErrorKind::Type,
            message: format!("expected {expected}, found {found}"),
            span: Some(self.error_span()),
            hint: None,
        }
    }

    /// Records the keys `type_name` requires that this mapping lacks or leaves empty.
    fn check_required(&self, type_name: &str, entries: &[(Node<'_>, Node<'_>)]) {
        for &key in super::raw::required_keys(type_name) {
            let found = entries
                .iter()
                .find(|(k, _)| k.key_text(self.ctx.source) == key);
            let error = match found {
                None => DeError {
                    kind: DeErrorKind::MissingKey(key.to_string()),
                    message: format!("missing key `{key}`"),
                    span: Some(self.error_span()),
                    hint: None,
                },
                Some((k, v)) if matches!(v.kind, Kind::Null) => DeError {
                    kind: DeErrorKind::MissingKey(key.to_string()),
                    message: format!("`{key}` has no value"),
                    span: Some(k.span),
                    hint: Some(format!("give `{key}` a value")),
                },
                Some(_) => continue,
            };
            self.ctx.errors.borrow_mut().push(error);
        }
    }

    fn text(&self) -> Option<String> {
        match &self.node.kind {
            Kind::Str(s) => Some(s.to_string()),
            Kind::Int(_) | Kind::Float(_) | Kind::Bool(_) => {
                self.node.raw(self.ctx.source).map(str::to_string)
            }
            _ => None,
        }
    }
}

macro_rules! int_method {
    ($name:ident) => {
        fn $name<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
            let span = self.error_span();
            match self.node.kind {
                Kind::Int(n) => match i64::try_from(n) {
                    Ok(i) if i >= 0 => v.visit_u64(i as u64),
                    Ok(i) => v.visit_i64(i),
                    Err(_) => v.visit_i128(n),
                },
                _ => Err(self.type_error("an integer")),
            }
            .map_err(|e: DeError| e.at(span))
        }
    };
}

impl<'de> Deserializer<'de> for NodeDe<'_, '_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let span = self.error_span();
        match &self.node.kind {
            Kind::Null => v.visit_unit(),
            Kind::Bool(b) => v.visit_bool(*b),
            Kind::Int(_) => return self.deserialize_i64(v),
            Kind::Float(f) => v.visit_f64(*f),
            Kind::Str(s) => v.visit_str(s),
            Kind::Seq(items) => v.visit_seq(SeqDe {
                items: items.iter(),
                ctx: self.ctx,
            }),
            Kind::Map(entries) => v.visit_map(MapDe {
                entries: entries.iter().collect::<Vec<_>>().into_iter(),
                value: None,
                ctx: self.ctx,
            }),
        }
        .map_err(|e: DeError| e.at(span))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            Kind::Bool(b) => v.visit_bool(*b).map_err(|e: DeError| e.at(self.node.span)),
            Kind::Str(s) => {
                let mut e = self.type_error("a boolean (true or false)");
                e.hint = yaml11_bool(s)
                    .map(|b| format!("YAML 1.2 reads `{s}` as a string; write `{b}`"));
                Err(e)
            }
            _ => Err(self.type_error("a boolean (true or false)")),
        }
    }

    int_method!(deserialize_i8);
    int_method!(deserialize_i16);
    int_method!(deserialize_i32);
    int_method!(deserialize_i64);
    int_method!(deserialize_i128);
    int_method!(deserialize_u8);
    int_method!(deserialize_u16);
    int_method!(deserialize_u32);
    int_method!(deserialize_u64);
    int_method!(deserialize_u128);

    fn deserialize_f32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(v)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match self.node.kind {
            Kind::Float(f) => v.visit_f64(f),
            Kind::Int(n) => v.visit_f64(n as f64),
            _ => return Err(self.type_error("a number")),
        }
        .map_err(|e: DeError| e.at(self.node.span))
    }

    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match self.text() {
            Some(s) => v.visit_string(s).map_err(|e: DeError| e.at(self.node.span)),
            None => Err(self.type_error("a string")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        // A null value is an absent one.
        match self.node.kind {
            Kind::Null => v.visit_none(),
            _ => v.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match self.node.kind {
            Kind::Null => v.visit_unit(),
            _ => Err(self.type_error("null")),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        v: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(v)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, DeError> {
        if name == FIELD_MARKER {
            return v.visit_seq(FieldSeq { value: Some(self) });
        }
        if name == SP_MARKER {
            let span = self.node.span;
            let span = match self.node.kind {
                Kind::Seq(_) | Kind::Map(_) => self.key_span.unwrap_or(span),
                _ => span,
            };
            return v.visit_seq(SpanSeq {
                offset: span.offset as u64,
                len: span.len as u64,
                value: Some(self),
                state: 0,
            });
        }
        v.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            Kind::Seq(items) => v
                .visit_seq(SeqDe {
                    items: items.iter(),
                    ctx: self.ctx,
                })
                .map_err(|e: DeError| e.at(self.error_span())),
            _ => Err(self.type_error("a list")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, v: V) -> Result<V::Value, DeError> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        v: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(v)
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            Kind::Map(entries) => v
                .visit_map(MapDe {
                    entries: entries.iter().collect::<Vec<_>>().into_iter(),
                    value: None,
                    ctx: self.ctx,
                })
                .map_err(|e: DeError| e.at(self.error_span())),
            _ => Err(self.type_error("a mapping")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        let Kind::Map(entries) = &self.node.kind else {
            return Err(self.type_error("a mapping"));
        };
        self.check_required(name, entries);
        let mut known = Vec::with_capacity(entries.len());
        for entry in entries {
            let key = entry.0.key_text(self.ctx.source);
            if fields.contains(&key) {
                known.push(entry);
            } else {
                let key = key.to_string();
                let suggestion = suggest(&key, fields).map(str::to_string);
                self.ctx.errors.borrow_mut().push(DeError {
                    message: format!("unknown key `{key}`"),
                    kind: DeErrorKind::UnknownKey { key, suggestion },
                    span: Some(entry.0.span),
                    hint: None,
                });
            }
        }
        v.visit_map(MapDe {
            entries: known.into_iter(),
            value: None,
            ctx: self.ctx,
        })
        .map_err(|e: DeError| e.at(self.error_span()))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        match self.text() {
            Some(s) => v
                .visit_enum(IntoDeserializer::<DeError>::into_deserializer(s))
                .map_err(|e: DeError| e.at(self.node.span)),
            None => Err(self.type_error("a string")),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        v.visit_unit()
    }
}

struct SeqDe<'a, 's> {
    items: std::slice::Iter<'a, Node<'a>>,
    ctx: &'a Ctx<'s>,
}

impl<'de> de::SeqAccess<'de> for SeqDe<'_, '_> {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            None => Ok(None),
            Some(node) => seed
                .deserialize(NodeDe {
                    node,
                    ctx: self.ctx,
                    key_span: None,
                })
                .map(Some),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapDe<'a, 's> {
    entries: std::vec::IntoIter<&'a (Node<'a>, Node<'a>)>,
    value: Option<&'a (Node<'a>, Node<'a>)>,
    ctx: &'a Ctx<'s>,
}

impl<'de> de::MapAccess<'de> for MapDe<'_, '_> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.entries.next() {
            None => Ok(None),
            Some(entry) => {
                self.value = Some(entry);
                seed.deserialize(NodeDe {
                    node: &entry.0,
                    ctx: self.ctx,
                    key_span: None,
                })
                .map(Some)
                .map_err(|e: DeError| e.at(entry.0.span))
            }
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some(entry) = self.value.take() else {
            return Err(de::Error::custom("value requested before key"));
        };
        seed.deserialize(NodeDe {
            node: &entry.1,
            ctx: self.ctx,
            key_span: Some(entry.0.span),
        })
    }
}

/// Hands a [`Field`] its value as a one-element sequence, or none when the value is bad: the
/// problem is recorded and the rest of the entry is read on.
struct FieldSeq<'a, 's> {
    value: Option<NodeDe<'a, 's>>,
}

impl<'de> de::SeqAccess<'de> for FieldSeq<'_, '_> {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some(d) = self.value.take() else {
            return Ok(None);
        };
        match seed.deserialize(d) {
            Ok(v) => Ok(Some(v)),
            Err(e) => {
                d.ctx.errors.borrow_mut().push(e.at(d.error_span()));
                Ok(None)
            }
        }
    }
}

/// `yes`, `no`, `on`, `off`, `y`, `n` (any case): booleans in YAML 1.1, strings in YAML 1.2.
fn yaml11_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "yes" | "y" | "on" => Some(true),
        "no" | "n" | "off" => Some(false),
        _ => None,
    }
}

/// Hands a [`Sp`] its offset, length and value as a three-element sequence.
struct SpanSeq<'a, 's> {
    offset: u64,
    len: u64,
    value: Option<NodeDe<'a, 's>>,
    state: u8,
}

impl<'de> de::SeqAccess<'de> for SpanSeq<'_, '_> {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        self.state += 1;
        match self.state {
            1 => seed.deserialize(self.offset.into_deserializer()).map(Some),
            2 => seed.deserialize(self.len.into_deserializer()).map(Some),
            3 => match self.value.take() {
                Some(d) => seed.deserialize(d).map(Some),
                None => Ok(None),
            },
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::raw::{RawSnapshotTask, RawSystem};

    fn read<T: for<'de> de::Deserialize<'de>>(yaml: &str) -> (Result<T, DeError>, Vec<DeError>) {
        let node = crate::config::node::parse(yaml).expect("yaml");
        let ctx = Ctx::new(yaml);
        let out = ctx.parse::<T>(&node, None);
        (out, ctx.errors.into_inner())
    }

    #[test]
    fn a_bad_value_is_reported_and_the_rest_of_the_entry_read() {
        let (sys, errors) = read::<RawSystem>("{ host: nas1.lan, sudo: [x], port: 2222 }");
        let sys = sys.expect("the entry stays");
        assert!(sys.sudo.invalid());
        assert_eq!(sys.host.given().map(|h| h.value.as_str()), Some("nas1.lan"));
        assert_eq!(sys.port.given().map(|p| p.value), Some(2222));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].kind, DeErrorKind::Type);
        assert_eq!(errors[0].span, Some(Span { offset: 18, len: 4 }));
    }

    #[test]
    fn missing_and_empty_required_keys_are_reported_and_the_entry_kept() {
        let (task, errors) = read::<RawSnapshotTask>("{ dataset: , recursive: true }");
        let task = task.expect("the entry stays");
        assert_eq!(task.system, Field::Invalid);
        assert_eq!(task.dataset, Field::Invalid);
        assert_eq!(task.recursive.given().map(|r| r.value), Some(true));
        let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages, ["missing key `system`", "`dataset` has no value"]);
    }

    #[test]
    fn yaml_1_1_booleans_get_a_hint() {
        for (word, fix) in [
            ("yes", "true"),
            ("Off", "false"),
            ("n", "false"),
            ("ON", "true"),
        ] {
            let (sys, errors) = read::<RawSystem>(&format!("{{ host: h, sudo: {word} }}"));
            assert!(sys.expect("entry").sudo.invalid());
            assert_eq!(
                errors[0].hint.as_deref(),
                Some(format!("YAML 1.2 reads `{word}` as a string; write `{fix}`").as_str())
            );
        }
        let (_, errors) = read::<RawSystem>("{ host: h, sudo: maybe }");
        assert_eq!(errors[0].hint, None);
    }
}
