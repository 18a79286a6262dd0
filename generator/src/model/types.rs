//! Lowering schemas to Rust types and to validation rules.

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;
use serde::Serialize;

use super::literal::{EnumKind, Literal};
use super::names::{Namespace, field_ident, pascal};
use super::rules::{FieldRule, Format, NumberRule, ObjectRule, Rule, StringRule};
use super::schema::{NumberS, ObjectS, S, SKind, SRef, StringS};
use super::type_ref::{Builtin, TypeId, TypeIds, TypeName, TypeRef};
use crate::diagnostic::{Diagnostic, Diagnostics};

/// How a value is stored in a database column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Storage {
    Text,
    Uuid,
    Enum,
    Int32,
    Int64,
    Float,
    Bool,
    DateTime,
    Date,
    Json,
}

#[derive(Debug, Clone)]
pub struct Ty {
    /// Without the `Option` for nullability.
    pub ty: TypeRef,
    pub storage: Storage,
    pub enum_values: Vec<String>,
}

/// What Rust item a type becomes; templates see it as `struct`, `enum`, `union` or `intenum`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TypeKind {
    Struct,
    /// Of strings.
    Enum,
    /// `oneOf`/`anyOf`.
    Union,
    /// Of integers: each variant's `value` is its number.
    IntEnum,
}

#[derive(Debug, Clone, Serialize)]
pub struct TypeDef {
    pub name: String,
    #[serde(skip)]
    pub id: TypeId,
    pub doc: Option<String>,
    pub kind: TypeKind,
    pub fields: Vec<StructField>,
    pub variants: Vec<Variant>,
    /// Union alternatives, in the spec's order (untagged unions try them in that order).
    pub members: Vec<UnionMember>,
    /// The discriminator property of a union whose every member has a tag value.
    pub tag: Option<String>,
    /// Domain module that owns it; `None` for shared types.
    #[serde(skip)]
    pub owner: Option<String>,
    /// Which ways the server moves it through serde (`reach::mark_serde_use`).
    pub serde: SerdeUse,
}

/// Which ways the server moves a type through serde: read from requests, written in responses.
/// A generated client moves it the other way, so what the server never does is derived only
/// with the crate's `client` feature: most of a large spec's types are only ever answered, and
/// their `Deserialize` impls are a large part of what rustc spends on the crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SerdeUse {
    pub reads: bool,
    pub writes: bool,
}

impl Default for SerdeUse {
    /// Both ways, until the uses are known.
    fn default() -> Self {
        Self {
            reads: true,
            writes: true,
        }
    }
}

impl TypeDef {
    /// A struct type.
    pub fn record(
        name: &TypeName,
        doc: Option<String>,
        fields: Vec<StructField>,
        owner: Option<&str>,
    ) -> Self {
        TypeDef {
            name: name.name.clone(),
            id: name.id,
            doc,
            kind: TypeKind::Struct,
            fields,
            variants: Vec::new(),
            members: Vec::new(),
            tag: None,
            owner: owner.map(str::to_string),
            serde: SerdeUse::default(),
        }
    }

    /// The types its fields or members hold, in a fixed order.
    pub fn held(&self) -> impl Iterator<Item = &TypeRef> {
        (self.fields.iter().map(|f| &f.ty)).chain(self.members.iter().map(|m| &m.ty))
    }

    pub fn held_mut(&mut self) -> impl Iterator<Item = &mut TypeRef> {
        (self.fields.iter_mut().map(|f| &mut f.ty))
            .chain(self.members.iter_mut().map(|m| &mut m.ty))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct UnionMember {
    pub ident: String,
    pub ty: TypeRef,
    /// Discriminator values that select this member.
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StructField {
    pub ident: String,
    pub json: String,
    /// Full type, including `Option`/`Patch`.
    pub ty: TypeRef,
    pub doc: Option<String>,
    /// Not required: `#[serde(default)]` and omitted when empty.
    pub optional: bool,
    pub rename: bool,
    pub sensitive: bool,
    pub patch: bool,
    /// The spec's default: the field is then not an `Option`, and serde fills it in when the
    /// value is absent.
    pub default: Option<super::literal::Literal>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Variant {
    pub ident: String,
    pub value: String,
}

/// The types a spec lowers to: every named type has an id, and what fields and members hold are
/// [`TypeRef`]s to builtins and to those ids.
pub struct TypeSpace<'a> {
    pub components: &'a IndexMap<String, S>,
    /// Component name → Rust type name, for components that become a named type.
    pub names: BTreeMap<String, String>,
    ids: TypeIds,
    pub namespace: Namespace,
    pub defs: Vec<TypeDef>,
    pub diagnostics: Diagnostics,
    /// Inline types already emitted, by name, so the same hint twice yields one type.
    inline_done: BTreeSet<String>,
    /// Inline enums and objects by their shape (see `shared_name`).
    shapes: BTreeMap<String, String>,
}

const MAX_DEPTH: usize = 64;

impl<'a> TypeSpace<'a> {
    pub fn new(components: &'a IndexMap<String, S>) -> Self {
        Self {
            components,
            names: BTreeMap::new(),
            ids: TypeIds::default(),
            namespace: Namespace::default(),
            defs: Vec::new(),
            diagnostics: Diagnostics::default(),
            inline_done: BTreeSet::new(),
            shapes: BTreeMap::new(),
        }
    }

    /// Give every component that becomes a Rust type its name, before anything is emitted, so
    /// that names are stable whatever order they are used in. `entities` are named first, then
    /// the names generated code derives from each (`derived`) are taken, then every other
    /// component is named: a spec type can never take a derived name (`LabelEvent` becomes
    /// `LabelEvent2` beside the entity `Label`).
    pub fn name_components(
        &mut self,
        entities: &BTreeSet<String>,
        derived: fn(&str) -> Vec<String>,
    ) {
        for first in [true, false] {
            for (name, schema) in self.components {
                if entities.contains(name) != first || !self.is_named(schema, 0) {
                    continue;
                }
                let rust = self.namespace.claim(&pascal(name));
                if first {
                    for d in derived(&rust) {
                        self.namespace.reserve(&d);
                    }
                }
                self.names.insert(name.clone(), rust);
            }
        }
    }

    fn is_named(&self, s: &S, depth: usize) -> bool {
        match &s.kind {
            SKind::Object(o) => !o.properties.is_empty(),
            SKind::AllOf(members) => {
                members.len() > 1
                    || members
                        .iter()
                        .any(|m| depth < MAX_DEPTH && self.sref_named(m, depth + 1))
            }
            SKind::String(st) => !st.enumeration.is_empty(),
            SKind::Integer(n) => !n.enumeration.is_empty(),
            SKind::OneOf(members) => members.len() > 1,
            _ => false,
        }
    }

    fn sref_named(&self, r: &SRef, depth: usize) -> bool {
        match r {
            SRef::Ref(_) => true,
            SRef::Inline(s) => self.is_named(s, depth),
        }
    }

    /// The reference to the defined type `name`, giving it an id if it has none yet.
    pub fn declare(&mut self, name: &str) -> TypeName {
        self.ids.declare(name)
    }

    /// The id of the defined type `name`, if it was declared.
    pub fn lookup(&self, name: &str) -> Option<TypeId> {
        self.ids.lookup(name)
    }

    /// The Rust name of a component: the one it was given, or its PascalCase form.
    pub fn rust_name(&self, component: &str) -> String {
        self.names
            .get(component)
            .cloned()
            .unwrap_or_else(|| pascal(component))
    }

    pub fn resolve<'s>(&'s self, r: &'s SRef) -> Option<&'s S> {
        let mut current = r;
        for _ in 0..MAX_DEPTH {
            match current {
                SRef::Inline(s) => return Some(s),
                SRef::Ref(name) => {
                    let s = self.components.get(name)?;
                    // A component that is only `allOf: [$ref]` is an alias: follow it.
                    match &s.kind {
                        SKind::AllOf(m) if m.len() == 1 && !self.names.contains_key(name) => {
                            current = &m[0]
                        }
                        _ => return Some(s),
                    }
                }
            }
        }
        None
    }

    pub fn nullable(&self, r: &SRef) -> bool {
        match r {
            SRef::Inline(s) => {
                s.nullable
                    || matches!(&s.kind, SKind::AllOf(m) if m.len() == 1 && self.nullable(&m[0]))
            }
            SRef::Ref(name) => self.components.get(name).is_some_and(|s| s.nullable),
        }
    }

    /// Properties of an object, with `allOf` members merged in.
    pub fn flatten(&self, r: &SRef) -> Option<ObjectS> {
        let mut out = ObjectS::default();
        self.flatten_into(r, &mut out, 0)?;
        Some(out)
    }

    fn flatten_into(&self, r: &SRef, out: &mut ObjectS, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        let s = match r {
            SRef::Ref(name) => self.components.get(name)?,
            SRef::Inline(s) => s,
        };
        match &s.kind {
            SKind::Object(o) => {
                for (k, v) in &o.properties {
                    out.properties.entry(k.clone()).or_insert_with(|| v.clone());
                }
                for req in &o.required {
                    if !out.required.contains(req) {
                        out.required.push(req.clone());
                    }
                }
                if o.additional.is_some() {
                    out.additional = o.additional.clone();
                }
                Some(())
            }
            SKind::AllOf(members) => {
                for m in members {
                    self.flatten_into(m, out, depth + 1)?;
                }
                Some(())
            }
            _ => None,
        }
    }

    /// The Rust type for a schema. `hint` names inline types that need one; `owner` is the domain
    /// module they are emitted into.
    pub fn ty(&mut self, r: &SRef, hint: &str, owner: Option<&str>) -> Ty {
        self.ty_at(r, hint, owner, 0)
    }

    fn ty_at(&mut self, r: &SRef, hint: &str, owner: Option<&str>, depth: usize) -> Ty {
        if depth > MAX_DEPTH {
            return json_ty();
        }
        if let SRef::Ref(name) = r {
            if let Some(rust) = self.names.get(name).cloned() {
                let storage = match self.components.get(name).map(|s| &s.kind) {
                    Some(SKind::String(_)) => Storage::Enum,
                    Some(SKind::Integer(_)) => Storage::Int64,
                    _ => Storage::Json,
                };
                let enum_values = match self.components.get(name).map(|s| &s.kind) {
                    Some(SKind::String(st)) => st.enumeration.clone(),
                    _ => Vec::new(),
                };
                return Ty {
                    ty: TypeRef::Named(self.declare(&rust)),
                    storage,
                    enum_values,
                };
            }
            let Some(s) = self.components.get(name) else {
                self.diagnostics.push(Diagnostic::error(format!(
                    "schema `{name}` is referenced but not defined"
                )));
                return json_ty();
            };
            let s = s.clone();
            return self.inline_ty(&s, hint, owner, depth);
        }
        let SRef::Inline(s) = r else { unreachable!() };
        let s = (**s).clone();
        self.inline_ty(&s, hint, owner, depth)
    }

    fn inline_ty(&mut self, s: &S, hint: &str, owner: Option<&str>, depth: usize) -> Ty {
        match &s.kind {
            SKind::String(st) if !st.enumeration.is_empty() => {
                let name = self.shared_name(format!("enum {:?}", st.enumeration), hint);
                let name = self.declare(&name);
                if self.inline_done.insert(name.name.clone()) {
                    self.defs.push(enum_def(
                        &name,
                        s.description.clone(),
                        &st.enumeration,
                        owner,
                    ));
                }
                Ty {
                    ty: TypeRef::Named(name),
                    storage: Storage::Enum,
                    enum_values: st.enumeration.clone(),
                }
            }
            SKind::String(st) => string_ty(st),
            SKind::Integer(n) if !n.enumeration.is_empty() => {
                let name = self.shared_name(format!("int enum {:?}", n.enumeration), hint);
                let name = self.declare(&name);
                if self.inline_done.insert(name.name.clone()) {
                    let def = int_enum_def(&name, s.description.clone(), &n.enumeration, owner);
                    self.defs.push(def);
                }
                plain_ty(TypeRef::Named(name), Storage::Int64)
            }
            SKind::Integer(n) if n.format.as_deref() == Some("int32") => {
                plain_ty(Builtin::I32, Storage::Int32)
            }
            SKind::Integer(_) => plain_ty(Builtin::I64, Storage::Int64),
            SKind::Number(_) => plain_ty(Builtin::F64, Storage::Float),
            SKind::Boolean => plain_ty(Builtin::Bool, Storage::Bool),
            SKind::Array { items, .. } => {
                let inner = match items {
                    Some(i) => self.ty_at(i, &format!("{hint}Item"), owner, depth + 1).ty,
                    None => TypeRef::Builtin(Builtin::Json),
                };
                plain_ty(TypeRef::Vec(Box::new(inner)), Storage::Json)
            }
            SKind::Object(o) if o.properties.is_empty() => {
                let inner = match &o.additional {
                    Some(Some(v)) => self.ty_at(v, &format!("{hint}Value"), owner, depth + 1).ty,
                    _ => TypeRef::Builtin(Builtin::Json),
                };
                plain_ty(TypeRef::Map(Box::new(inner)), Storage::Json)
            }
            SKind::AllOf(members) if members.len() == 1 => {
                self.ty_at(&members[0], hint, owner, depth + 1)
            }
            SKind::Object(_) | SKind::AllOf(_) => {
                let name = self.shared_name(format!("object {s:?}"), hint);
                let name = self.declare(&name);
                if self.inline_done.insert(name.name.clone()) {
                    let def =
                        self.struct_def(&name, &SRef::Inline(Box::new(s.clone())), owner, depth);
                    self.defs.push(def);
                }
                plain_ty(TypeRef::Named(name), Storage::Json)
            }
            SKind::OneOf(members) if members.len() == 1 => {
                self.ty_at(&members[0], hint, owner, depth + 1)
            }
            SKind::OneOf(_) => {
                let name = self.inline_name(hint);
                let name = self.declare(&name);
                if self.inline_done.insert(name.name.clone()) {
                    let def = self.union_def(&name, s, owner, depth);
                    self.defs.push(def);
                }
                plain_ty(TypeRef::Named(name), Storage::Json)
            }
            SKind::Any => json_ty(),
        }
    }

    /// A Rust enum for `oneOf`/`anyOf`. With a discriminator that tags every member, the tag
    /// picks the member; otherwise serde tries members in the spec's order.
    fn union_def(&mut self, name: &TypeName, s: &S, owner: Option<&str>, depth: usize) -> TypeDef {
        let SKind::OneOf(alternatives) = &s.kind else {
            return TypeDef::record(name, s.description.clone(), Vec::new(), owner);
        };
        let mut idents = Namespace::default();
        let mut members = Vec::new();
        for (i, alternative) in alternatives.iter().enumerate() {
            let hint = format!("{}{}", name.name, i + 1);
            let ty = self.ty_at(alternative, &hint, owner, depth + 1).ty;
            let (ident, tags) = match alternative {
                SRef::Ref(component) => {
                    let mapped: Vec<String> = s
                        .discriminator
                        .iter()
                        .flat_map(|(_, mapping)| mapping)
                        .filter(|(_, target)| {
                            super::schema::component_name(target).unwrap_or(target) == component
                        })
                        .map(|(value, _)| value.clone())
                        .collect();
                    let tags = if mapped.is_empty() {
                        vec![component.clone()]
                    } else {
                        mapped
                    };
                    (pascal(component), tags)
                }
                SRef::Inline(_) => (variant_of_type(&ty, i), Vec::new()),
            };
            // A tag value selects the first member it is mapped to.
            let tags = tags
                .into_iter()
                .filter(|t| !members.iter().any(|m: &UnionMember| m.tags.contains(t)))
                .collect();
            members.push(UnionMember {
                ident: idents.claim(&ident),
                ty,
                tags,
            });
        }
        let tagged = s.discriminator.is_some() && members.iter().all(|m| !m.tags.is_empty());
        TypeDef {
            name: name.name.clone(),
            id: name.id,
            doc: s.description.clone(),
            kind: TypeKind::Union,
            fields: Vec::new(),
            variants: Vec::new(),
            members,
            tag: s
                .discriminator
                .as_ref()
                .filter(|_| tagged)
                .map(|(p, _)| p.clone()),
            owner: owner.map(str::to_string),
            serde: SerdeUse::default(),
        }
    }

    /// The name of an inline type with this `shape`: the type made for the same shape before,
    /// else a new one from `hint`. Specs repeat shapes inline (GitHub's `state: [open, closed]`
    /// enum in hundreds of places, the same small objects in many responses): each is one type.
    fn shared_name(&mut self, shape: String, hint: &str) -> String {
        let name = match self.shapes.get(&shape).cloned() {
            Some(name) if !self.inline_done.contains(&pascal(hint)) => name,
            _ => self.inline_name(hint),
        };
        self.shapes.entry(shape).or_insert_with(|| name.clone());
        name
    }

    fn inline_name(&mut self, hint: &str) -> String {
        let name = pascal(hint);
        if self.inline_done.contains(&name) {
            return name;
        }
        self.namespace.claim(&name)
    }

    /// Emit the type of a named component.
    pub fn component_def(&mut self, component: &str, owner: Option<&str>) {
        let Some(name) = self.names.get(component).cloned() else {
            return;
        };
        let name = self.declare(&name);
        let Some(s) = self.components.get(component).cloned() else {
            return;
        };
        let def = match &s.kind {
            SKind::String(st) => enum_def(&name, s.description.clone(), &st.enumeration, owner),
            SKind::Integer(n) => int_enum_def(&name, s.description.clone(), &n.enumeration, owner),
            SKind::OneOf(_) => self.union_def(&name, &s, owner, 0),
            _ => self.struct_def(&name, &SRef::Ref(component.to_string()), owner, 0),
        };
        self.defs.push(def);
    }

    pub fn struct_def(
        &mut self,
        name: &TypeName,
        r: &SRef,
        owner: Option<&str>,
        depth: usize,
    ) -> TypeDef {
        let obj = self.flatten(r).unwrap_or_default();
        let doc = self.resolve(r).and_then(|s| s.description.clone());
        let mut idents = Namespace::default();
        let mut fields = Vec::new();
        for (json, prop) in &obj.properties {
            let resolved = self.resolve(prop);
            // One type serves requests and responses: a readOnly field may be missing from a
            // request (it is never required to deserialize), and a writeOnly one never leaves
            // the server.
            let read_only = resolved.is_some_and(|s| s.read_only);
            let write_only = resolved.is_some_and(|s| s.write_only);
            let required = obj.required.contains(json) && !read_only;
            let spec_default = resolved.and_then(|s| s.default.clone());
            let enum_kind = match resolved.map(|s| &s.kind) {
                Some(SKind::String(st)) if !st.enumeration.is_empty() => EnumKind::Strings,
                Some(SKind::Integer(n)) if !n.enumeration.is_empty() => EnumKind::Integers,
                _ => EnumKind::None,
            };
            let nullable = self.nullable(prop);
            // Cycles (a struct containing itself) are boxed once all types are known.
            let hint = format!("{}{}", name.name, super::names::variant(json));
            let ty = self.ty_at(prop, &hint, owner, depth + 1).ty;
            let sensitive = write_only
                || self.resolve(prop).is_some_and(|s| {
                    s.extensions.get("x-sensitive") == Some(&serde_json::Value::Bool(true))
                });
            let ident = idents.claim(&field_ident(json));
            // Optional and nullable: absent, null and a value are three different messages.
            let patch = !required && nullable;
            let default = spec_default
                .filter(|_| !required && !nullable)
                .and_then(|value| Literal::of(&value, &ty, enum_kind));
            fields.push(StructField {
                rename: ident.trim_start_matches("r#") != json,
                ident,
                json: json.clone(),
                ty: if patch {
                    ty.patch()
                } else if default.is_some() || (required && !nullable) {
                    ty
                } else {
                    ty.optional()
                },
                doc: self.resolve(prop).and_then(|s| s.description.clone()),
                optional: !required && default.is_none(),
                sensitive,
                patch,
                default,
            });
        }
        TypeDef::record(name, doc, fields, owner)
    }

    /// The validation rule of a schema. Named components that can nest become statics
    /// (`RULE_X`), collected in `needed` so each module emits the ones it uses.
    pub fn rule(&self, r: &SRef, needed: &mut BTreeSet<String>) -> Rule {
        self.rule_at(r, needed, 0)
    }

    fn rule_at(&self, r: &SRef, needed: &mut BTreeSet<String>, depth: usize) -> Rule {
        if depth > MAX_DEPTH {
            return Rule::Any;
        }
        match r {
            SRef::Ref(name) => {
                let Some(s) = self.components.get(name) else {
                    return Rule::Any;
                };
                // Anything that can nest is a static of its own: inlining a component's rule at
                // every use multiplies out (a union of unions of arrays of unions…) and once made
                // a 256 KB spec produce a 1 GB file.
                if matches!(
                    s.kind,
                    SKind::Object(_) | SKind::AllOf(_) | SKind::OneOf(_) | SKind::Array { .. }
                ) {
                    needed.insert(name.clone());
                    let shared = Rule::Static(rule_static(name));
                    return if s.nullable {
                        shared.nullable()
                    } else {
                        shared
                    };
                }
                self.rule_of(s, needed, depth)
            }
            SRef::Inline(s) => self.rule_of(s, needed, depth),
        }
    }

    /// The rule of a schema (a component's, for its static).
    pub fn rule_of(&self, s: &S, needed: &mut BTreeSet<String>, depth: usize) -> Rule {
        let rule = match &s.kind {
            SKind::Any => Rule::Any,
            SKind::String(st) => Rule::String(string_rule(st)),
            SKind::Integer(n) => Rule::Integer(number_rule(n)),
            SKind::Number(n) => Rule::Number(number_rule(n)),
            SKind::Boolean => Rule::Boolean,
            SKind::Array {
                items,
                min_items,
                max_items,
            } => Rule::Array {
                items: Box::new(match items {
                    Some(i) => self.rule_at(i, needed, depth + 1),
                    None => Rule::Any,
                }),
                min_items: *min_items,
                max_items: *max_items,
            },
            SKind::AllOf(members)
                if members.len() == 1 && !matches!(members[0], SRef::Inline(_)) =>
            {
                let r = self.rule_at(&members[0], needed, depth + 1);
                return if s.nullable { r.nullable() } else { r };
            }
            SKind::Object(_) | SKind::AllOf(_) => {
                let obj = self
                    .flatten(&SRef::Inline(Box::new(s.clone())))
                    .unwrap_or_default();
                self.object_rule(&obj, &[], needed, depth)
            }
            SKind::OneOf(members) => Rule::OneOf(
                members
                    .iter()
                    .map(|m| self.rule_at(m, needed, depth + 1))
                    .collect(),
            ),
        };
        if s.nullable { rule.nullable() } else { rule }
    }

    /// An object rule; `forbidden` lists keys the request may not send, with the reason.
    pub fn object_rule(
        &self,
        obj: &ObjectS,
        forbidden: &[(String, String)],
        needed: &mut BTreeSet<String>,
        depth: usize,
    ) -> Rule {
        let fields = obj
            .properties
            .iter()
            .filter(|(_, p)| !self.resolve(p).is_some_and(|s| s.read_only))
            .map(|(name, prop)| {
                let rule = self.rule_at(prop, needed, depth + 1);
                FieldRule {
                    name: name.clone(),
                    required: obj.required.contains(name),
                    rule: if self.nullable(prop) {
                        rule.nullable()
                    } else {
                        rule
                    },
                }
            })
            .collect();
        // Rules check requests: a readOnly property is the server's to send, never a client's.
        let mut forbidden = forbidden.to_vec();
        for (name, prop) in &obj.properties {
            if self.resolve(prop).is_some_and(|s| s.read_only)
                && !forbidden.iter().any(|(f, _)| f == name)
            {
                forbidden.push((name.clone(), "is read-only".to_string()));
            }
        }
        Rule::Object(ObjectRule {
            fields,
            deny_unknown: matches!(obj.additional, Some(None)),
            forbidden,
        })
    }
}

/// A variant name for an inline union member, from its type.
fn variant_of_type(ty: &TypeRef, index: usize) -> String {
    let fixed = match ty {
        TypeRef::Builtin(Builtin::String) => "String",
        TypeRef::Builtin(Builtin::I32 | Builtin::I64) => "Integer",
        TypeRef::Builtin(Builtin::F64) => "Number",
        TypeRef::Builtin(Builtin::Bool) => "Boolean",
        TypeRef::Builtin(Builtin::Uuid) => "Uuid",
        TypeRef::Builtin(Builtin::DateTime) => "DateTime",
        TypeRef::Builtin(Builtin::Date) => "Date",
        TypeRef::Builtin(Builtin::Json) => "Any",
        TypeRef::Vec(_) => "Array",
        TypeRef::Map(_) => "Map",
        // A raw name (`r#Match`) is no variant name.
        TypeRef::Named(n)
            if n.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_') =>
        {
            &n.name
        }
        _ => return format!("Variant{}", index + 1),
    };
    fixed.to_string()
}

pub fn rule_static(component: &str) -> String {
    format!(
        "RULE_{}",
        heck::ToShoutySnakeCase::to_shouty_snake_case(component)
    )
}

fn json_ty() -> Ty {
    plain_ty(Builtin::Json, Storage::Json)
}

/// A type that is no string enum.
fn plain_ty(ty: impl Into<TypeRef>, storage: Storage) -> Ty {
    Ty {
        ty: ty.into(),
        storage,
        enum_values: vec![],
    }
}

fn string_ty(st: &StringS) -> Ty {
    let (builtin, storage) = match st.format.as_deref() {
        Some("uuid") => (Builtin::Uuid, Storage::Uuid),
        Some("date-time") => (Builtin::DateTime, Storage::DateTime),
        Some("date") => (Builtin::Date, Storage::Date),
        _ => (Builtin::String, Storage::Text),
    };
    plain_ty(builtin, storage)
}

/// An integer enum: `V1 = 1`, `Minus2 = -2`, each value once.
fn int_enum_def(
    name: &TypeName,
    doc: Option<String>,
    values: &[i64],
    owner: Option<&str>,
) -> TypeDef {
    let mut seen = BTreeSet::new();
    let variants = values
        .iter()
        .filter(|v| seen.insert(**v))
        .map(|v| Variant {
            ident: if *v < 0 {
                format!("Minus{}", v.unsigned_abs())
            } else {
                format!("V{v}")
            },
            value: v.to_string(),
        })
        .collect();
    TypeDef {
        kind: TypeKind::IntEnum,
        variants,
        ..enum_def(name, doc, &[], owner)
    }
}

fn enum_def(
    name: &TypeName,
    doc: Option<String>,
    values: &[String],
    owner: Option<&str>,
) -> TypeDef {
    let mut ns = Namespace::default();
    // Specs repeat values (Stripe's API versions, say); one variant each.
    let mut seen = BTreeSet::new();
    let variants = values
        .iter()
        .filter(|v| seen.insert(v.as_str()))
        .map(|v| Variant {
            ident: ns.claim(&super::names::variant(v)),
            value: v.clone(),
        })
        .collect();
    TypeDef {
        name: name.name.clone(),
        id: name.id,
        doc,
        kind: TypeKind::Enum,
        fields: Vec::new(),
        variants,
        members: Vec::new(),
        tag: None,
        owner: owner.map(str::to_string),
        serde: SerdeUse::default(),
    }
}

fn string_rule(st: &StringS) -> StringRule {
    StringRule {
        min_length: st.min_length,
        max_length: st.max_length,
        pattern: st.pattern.clone(),
        format: Format::of(st.format.as_deref()),
        enumeration: st.enumeration.clone(),
    }
}

fn number_rule(n: &NumberS) -> NumberRule {
    NumberRule {
        minimum: n.minimum,
        maximum: n.maximum,
        exclusive_minimum: n.exclusive_minimum,
        exclusive_maximum: n.exclusive_maximum,
        int32: n.format.as_deref() == Some("int32"),
        enumeration: n.enumeration.clone(),
    }
}
