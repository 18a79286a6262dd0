//! Relations between entities: foreign keys resolved against the spec's tables, and the order
//! in which one migration can create them.

use super::Entity;
use crate::diagnostic::{Diagnostic, Diagnostics};

/// A column and its field's API name.
type ColumnName = (String, String);

/// Point each relation at the table of the entity it names; relations to entities this spec does
/// not define are dropped with a warning (the table would not exist).
pub(super) fn resolve_foreign_keys(
    entities: &mut [Entity],
    sources: &crate::load::SourceMap,
    diags: &mut Diagnostics,
) {
    let targets: Vec<(String, String, String, Vec<ColumnName>)> = entities
        .iter()
        .map(|e| {
            (
                e.name.clone(),
                e.snake.clone(),
                e.table.clone(),
                e.fields
                    .iter()
                    .map(|f| (f.column.clone(), f.name.clone()))
                    .collect(),
            )
        })
        .collect();
    for e in entities.iter_mut() {
        let name = e.name.clone();
        let fields = e.fields.clone();
        e.foreign_keys.retain_mut(|fk| {
            let wanted = fk.table.clone();
            let at = sources.locate(&fk.pointer);
            let field = fields.iter().find(|f| f.column == fk.column);
            let field_name = field.map_or(fk.column.as_str(), |f| f.name.as_str());
            let target = targets.iter().find(|(n, s, t, _)| {
                super::names::loose_eq(n, &wanted) || super::names::loose_eq(s, &wanted) || super::names::loose_eq(t, &wanted)
            });
            let Some((target_name, _, table, columns)) = target else {
                let mut d = Diagnostic::warning(format!(
                    "relation {name}.{field_name} references `{wanted}`, which is not an entity of this spec; no foreign key is created"
                ))
                .at(at);
                if let Some(hint) = crate::diagnostic::did_you_mean(&wanted, targets.iter().map(|t| t.0.as_str())) {
                    d = d.hint(hint);
                }
                diags.push(d);
                return false;
            };
            let Some((_, target_field)) = columns.iter().find(|(c, _)| *c == fk.target_column) else {
                diags.push(
                    Diagnostic::error(format!(
                        "relation {name}.{field_name} references field `{}` of `{target_name}`, which has no such field",
                        fk.target_column
                    ))
                    .at(at)
                    .hint("leave out `referencesField` to reference the id"),
                );
                return false;
            };
            fk.table = table.clone();
            fk.target_field = target_field.clone();
            if let Some(f) = field {
                fk.field = f.name.clone();
                fk.field_ident = f.ident.clone();
                fk.nullable = f.nullable;
            }
            let sets_null = [&fk.on_delete, &fk.on_update].iter().any(|a| a.as_deref() == Some("SET NULL"));
            if sets_null && field.is_some_and(|f| !f.nullable) {
                diags.push(
                    Diagnostic::warning(format!(
                        "relation {name}.{field_name} sets NULL on a field that cannot be null: the database will refuse that change"
                    ))
                    .at(sources.locate(&fk.pointer)),
                );
            }
            true
        });
    }
}

/// Tables in an order where every foreign key points backwards, so one migration can create them.
pub(super) fn order_tables(entities: &[Entity]) -> Vec<Entity> {
    let mut done: Vec<Entity> = Vec::new();
    let mut left: Vec<&Entity> = entities.iter().collect();
    while !left.is_empty() {
        let before = left.len();
        left.retain(|e| {
            let ready = e
                .foreign_keys
                .iter()
                .all(|fk| fk.table == e.table || done.iter().any(|d| d.table == fk.table));
            if ready {
                done.push((*e).clone());
            }
            !ready
        });
        if left.len() == before {
            // A cycle: take the rest as they come (SQLite and Postgres accept forward references
            // only when deferred, so cycles are rare in practice and reported by the database).
            done.extend(left.drain(..).cloned());
        }
    }
    done
}
