//! Tests of the load stage: real fixtures, a multi-file spec, positions, errors, normalization
//! and hostile input.

use std::path::{Path, PathBuf};

use archgen::diagnostic::{Diagnostic, Diagnostics};
use archgen::load::{self, Loaded};
use serde_json::{Value, json};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/load")
}

fn arches() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/arches")
}

fn openapi(loaded: &Loaded) -> openapiv3::OpenAPI {
    serde_path_to_error::deserialize(&loaded.doc)
        .unwrap_or_else(|e| panic!("openapiv3 rejects the document at {}: {e}", e.path()))
}

fn load_ok(name: &str, text: &str) -> Loaded {
    load::load_str(Path::new(name), text).unwrap_or_else(|d| panic!("{d}"))
}

fn load_err(name: &str, text: &str) -> Diagnostics {
    match load::load_str(Path::new(name), text) {
        Ok(l) => panic!("expected an error, got {}", l.doc),
        Err(d) => d,
    }
}

/// The only diagnostic, which must be an error.
fn single(d: &Diagnostics) -> &Diagnostic {
    assert_eq!(d.0.len(), 1, "expected one diagnostic, got:\n{d}");
    assert!(d.0[0].is_error());
    &d.0[0]
}

/// "file-name:line:column" of a diagnostic, with only the file's last component.
fn place(d: &Diagnostic) -> String {
    let loc = d
        .location
        .as_ref()
        .unwrap_or_else(|| panic!("no location: {d}"));
    let file = loc.file.file_name().unwrap().to_string_lossy();
    format!("{file}:{}:{}", loc.line, loc.column)
}

fn locate(loaded: &Loaded, pointer: &str) -> String {
    let loc = loaded
        .sources
        .locate(pointer)
        .unwrap_or_else(|| panic!("no location for {pointer}"));
    let file = loc
        .file
        .strip_prefix(fixtures())
        .unwrap_or(&loc.file)
        .to_string_lossy()
        .into_owned();
    format!("{file}:{}:{}", loc.line, loc.column)
}

const HEADER: &str = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\n";

/// Loads a 3.1 document whose schema `S` is `schema` (YAML, indented by 6) and returns it.
/// `S` may refer to a second schema, `T`.
fn normalized_schema(schema: &str) -> (Loaded, Value) {
    let text = format!(
        "{HEADER}paths: {{}}\ncomponents:\n  schemas:\n    S:\n{schema}    T: {{type: string}}\n"
    );
    let loaded = load_ok("n.yaml", &text);
    openapi(&loaded);
    let s = loaded.doc["components"]["schemas"]["S"].clone();
    (loaded, s)
}

// ---------------------------------------------------------------------------------------------
// Real fixtures

#[test]
fn every_head_fixture_loads_and_deserializes() {
    let dir = arches().join("head-2025-12");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let loaded = load::load(&path).unwrap_or_else(|d| panic!("{}: {d}", path.display()));
            assert!(loaded.version.starts_with("3."), "{}", loaded.version);
            assert_eq!(loaded.doc["openapi"], "3.0.3");
            assert_eq!(loaded.files, vec![path.clone()]);
            let api = openapi(&loaded);
            assert!(!api.paths.paths.is_empty(), "{}", path.display());
            assert_no_type_lists(&loaded.doc, "");
            count += 1;
        }
    }
    assert_eq!(count, 5);
}

/// After normalization no schema may carry a list `type`; a quick structural scan suffices for
/// the fixtures, whose examples contain no such lists.
fn assert_no_type_lists(v: &Value, at: &str) {
    match v {
        Value::Object(m) => {
            if let Some(Value::Array(_)) = m.get("type") {
                panic!("type list left at {at}");
            }
            for (k, v) in m {
                assert_no_type_lists(v, &load::push_pointer(at, k));
            }
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| assert_no_type_lists(v, &format!("{at}/{i}"))),
        _ => {}
    }
}

#[test]
fn platform_fixture_is_normalized_from_3_2() {
    let path = arches().join("head-2025-12/platform.openapi.bundled.yaml");
    let loaded = load::load(&path).unwrap();
    assert_eq!(loaded.version, "3.2.0");
    assert!(loaded.doc.get("jsonSchemaDialect").is_none());
    // `info.summary` is harmless to openapiv3 and kept for later stages.
    assert_eq!(loaded.doc["info"]["summary"], "API for Arches platform");
    let loc = loaded.sources.locate("/info/title").unwrap();
    assert_eq!((loc.line, loc.column), (4, 3));
    openapi(&loaded);
}

#[test]
fn sept_bundled_fixture_loads_and_deserializes() {
    let path = arches().join("sept-2025/openapi.bundled.f6a97e54.yaml");
    let loaded = load::load(&path).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(loaded.version, "3.1.1");
    openapi(&loaded);
}

/// The sept-2025 entity schemas are bare schema files that reference each other by `./Base.yaml`.
/// Three files they reference were not captured; with stand-ins for those they must bundle.
#[cfg(unix)]
#[test]
fn sept_bare_schema_files_bundle() {
    let real = arches().join("sept-2025/schemas");
    let dir = std::env::temp_dir().join(format!("archgen-load-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&real).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        std::os::unix::fs::symlink(&path, dir.join(path.file_name().unwrap())).unwrap();
        names.push(name);
    }
    names.sort();
    std::fs::write(dir.join("UUID.yaml"), "type: string\nformat: uuid\n").unwrap();
    std::fs::write(dir.join("Email.yaml"), "type: string\nformat: email\n").unwrap();
    std::fs::write(
        dir.join("OrganizationReference.yaml"),
        "type: object\nproperties:\n  organizationID:\n    $ref: ./UUID.yaml\n",
    )
    .unwrap();
    let mut root = format!("{HEADER}paths: {{}}\ncomponents:\n  schemas:\n");
    for name in &names {
        root.push_str(&format!("    {name}:\n      $ref: ./{name}.yaml\n"));
    }
    std::fs::write(dir.join("openapi.yaml"), &root).unwrap();

    let result = load::load(&dir.join("openapi.yaml"));
    let _ = std::fs::remove_dir_all(&dir);
    let loaded = result.unwrap_or_else(|d| panic!("{d}"));
    openapi(&loaded);
    let schemas = loaded.doc["components"]["schemas"].as_object().unwrap();
    // Every entity kept its own name; the shared files were hoisted once each.
    for name in &names {
        assert!(schemas[name].is_object(), "{name}");
    }
    assert_eq!(
        schemas["Label"]["allOf"][0],
        json!({"$ref": "#/components/schemas/Base"})
    );
    assert_eq!(
        schemas["Base"]["properties"]["id"],
        json!({"$ref": "#/components/schemas/UUID"})
    );
    assert!(
        schemas.contains_key("UUID")
            && schemas.contains_key("Email")
            && schemas.contains_key("OrganizationReference")
    );
    assert_eq!(loaded.files.len(), names.len() + 4);
    // Positions point into the entity files themselves.
    let loc = loaded
        .sources
        .locate("/components/schemas/Label/allOf/0/$ref")
        .unwrap();
    assert_eq!(
        (
            loc.file.file_name().unwrap().to_str().unwrap(),
            loc.line,
            loc.column
        ),
        ("Label.yaml", 15, 5)
    );
}

#[test]
fn sept_bare_schema_files_report_their_missing_neighbours() {
    let real = arches().join("sept-2025/schemas");
    let text = format!(
        "{HEADER}paths: {{}}\ncomponents:\n  schemas:\n    Label:\n      $ref: ./Label.yaml\n    Member:\n      $ref: ./Member.yaml\n"
    );
    let d = load::load_str(&real.join("virtual-root.yaml"), &text).unwrap_err();
    assert!(
        d.0.iter()
            .all(|e| e.message.contains("UUID.yaml: file not found")),
        "{d}"
    );
    let places: Vec<String> = d.0.iter().map(place).collect();
    // One error per reference, at the reference, in the file that makes it.
    assert!(places.contains(&"Base.yaml:5:5".to_string()), "{places:?}");
    assert!(
        places.contains(&"Label.yaml:25:13".to_string()),
        "{places:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// A multi-file spec

fn multi() -> Loaded {
    load::load(&fixtures().join("multi/openapi.yaml")).unwrap_or_else(|d| panic!("{d}"))
}

#[test]
fn multi_file_spec_bundles() {
    let loaded = multi();
    let doc = &loaded.doc;
    openapi(&loaded);

    let schemas: Vec<&str> = doc["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    // `Owner` is replaced in place by its file; `Base` was taken by the root, so Base.yaml is `Base2`.
    assert_eq!(schemas, ["Base", "Owner", "Pet", "UUID", "Base2", "Kind"]);
    assert_eq!(
        doc["components"]["schemas"]["Base"],
        json!({"type": "string"})
    );
    let pet = &doc["components"]["schemas"]["Pet"];
    assert_eq!(
        pet["allOf"][0],
        json!({"$ref": "#/components/schemas/Base2"})
    );
    assert_eq!(
        pet["allOf"][1]["properties"]["owner"],
        json!({"$ref": "#/components/schemas/Owner"})
    );
    assert_eq!(
        pet["allOf"][1]["properties"]["kind"],
        json!({"$ref": "#/components/schemas/Kind"})
    );
    // Pet and Owner refer to each other across files: both are hoisted once.
    assert_eq!(
        doc["components"]["schemas"]["Owner"]["properties"]["pets"]["items"],
        json!({"$ref": "#/components/schemas/Pet"})
    );

    // A reference in a parameters list goes to components/parameters, under responses to responses.
    let get = &doc["paths"]["/pets"]["get"];
    assert_eq!(
        get["parameters"][0],
        json!({"$ref": "#/components/parameters/limit"})
    );
    assert_eq!(doc["components"]["parameters"]["limit"]["in"], "query");
    assert_eq!(
        get["responses"]["200"]["content"]["application/json"]["schema"]["items"],
        json!({"$ref": "#/components/schemas/Pet"})
    );

    // Path items are copied in place; their references resolve relative to their own file.
    let by_id = &doc["paths"]["/pets/{id}"]["get"];
    assert_eq!(by_id["operationId"], "getPet");
    assert_eq!(
        by_id["parameters"][0]["schema"],
        json!({"$ref": "#/components/schemas/UUID"})
    );
    assert_eq!(
        by_id["responses"]["200"],
        json!({"$ref": "#/components/responses/PetResponse"})
    );
    let pet_response = &doc["components"]["responses"]["PetResponse"];
    assert_eq!(
        pet_response["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/Pet"})
    );

    // Hoisted content is normalized like the rest.
    assert_eq!(
        pet["allOf"][1]["properties"]["tag"],
        json!({"type": "string", "nullable": true})
    );
    assert_eq!(
        doc["components"]["parameters"]["limit"]["schema"],
        json!({"type": "integer", "minimum": 1, "exclusiveMaximum": true, "maximum": 100})
    );
}

#[test]
fn multi_file_spec_lists_files_in_read_order() {
    let loaded = multi();
    let files: Vec<String> = loaded
        .files
        .iter()
        .map(|f| {
            f.strip_prefix(fixtures().join("multi"))
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(
        files,
        [
            "openapi.yaml",
            "schemas/Owner.yaml",
            "parameters/limit.yaml",
            "schemas/Pet.yaml",
            "paths/pet.yaml",
            "schemas/UUID.yaml",
            "common.yaml",
            "schemas/Base.yaml",
        ]
    );
}

#[test]
fn multi_file_positions_map_back_to_their_files() {
    let loaded = multi();
    assert_eq!(
        locate(&loaded, "/paths/~1pets/get"),
        "multi/openapi.yaml:7:5"
    );
    assert_eq!(
        locate(&loaded, "/paths/~1pets/get/parameters/0"),
        "multi/openapi.yaml:10:11"
    );
    // A hoisted node keeps the place it was written.
    assert_eq!(
        locate(&loaded, "/components/schemas/Pet/allOf/1/properties/name"),
        "multi/schemas/Pet.yaml:7:7"
    );
    assert_eq!(
        locate(&loaded, "/components/schemas/Pet/allOf/0/$ref"),
        "multi/schemas/Pet.yaml:3:5"
    );
    assert_eq!(
        locate(&loaded, "/components/schemas/Base2/properties/id"),
        "multi/schemas/Base.yaml:3:3"
    );
    assert_eq!(
        locate(&loaded, "/components/schemas/Kind"),
        "multi/common.yaml:3:5"
    );
    assert_eq!(
        locate(&loaded, "/components/parameters/limit/schema/minimum"),
        "multi/parameters/limit.yaml:5:3"
    );
    // A normalized node keeps the place of the node it came from: `nullable` comes from `type`.
    assert_eq!(
        locate(
            &loaded,
            "/components/schemas/Pet/allOf/1/properties/tag/nullable"
        ),
        "multi/schemas/Pet.yaml:10:9"
    );
    // An in-place path item: the entry is where the root declares it, its content in its file.
    assert_eq!(
        locate(&loaded, "/paths/~1pets~1{id}"),
        "multi/openapi.yaml:20:3"
    );
    assert_eq!(
        locate(&loaded, "/paths/~1pets~1{id}/get/parameters/0/name"),
        "multi/paths/pet.yaml:4:7"
    );
    // Containers the loader had to create fall back to their parent; unknown pointers too.
    assert_eq!(
        locate(&loaded, "/components/parameters"),
        "multi/openapi.yaml:22:1"
    );
    assert_eq!(
        locate(&loaded, "/components/schemas/Kind/no/such/node"),
        "multi/common.yaml:3:5"
    );
    assert_eq!(
        locate(&loaded, "#/components/schemas/Kind"),
        "multi/common.yaml:3:5"
    );
    assert!(loaded.sources.get("/components/parameters").is_none());
}

#[test]
fn every_node_has_a_position() {
    let loaded = multi();
    fn visit(v: &Value, at: &str, loaded: &Loaded) {
        let made_up = ["/components/parameters", "/components/responses"];
        if !made_up.contains(&at) {
            assert!(loaded.sources.get(at).is_some(), "no position for {at:?}");
        }
        match v {
            Value::Object(m) => m
                .iter()
                .for_each(|(k, v)| visit(v, &load::push_pointer(at, k), loaded)),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .for_each(|(i, v)| visit(v, &format!("{at}/{i}"), loaded)),
            _ => {}
        }
    }
    visit(&loaded.doc, "", &loaded);
}

#[test]
fn load_str_resolves_relative_to_the_given_name() {
    let root = fixtures().join("multi/openapi.yaml");
    let text = std::fs::read_to_string(&root).unwrap();
    let loaded = load::load_str(&root, &text).unwrap();
    assert_eq!(loaded.doc, multi().doc);
}

#[test]
fn structural_cycles_across_files_terminate() {
    // Pet → Owner → Pet (through `items`) is a legitimate recursive type, not an error.
    let loaded = multi();
    assert_eq!(
        loaded.doc["components"]["schemas"]["Owner"]["properties"]["pets"]["items"]["$ref"],
        "#/components/schemas/Pet"
    );
}

#[test]
fn references_go_to_the_section_of_their_position() {
    let loaded =
        load::load(&fixtures().join("sections/openapi.yaml")).unwrap_or_else(|d| panic!("{d}"));
    openapi(&loaded);
    let doc = &loaded.doc;
    let post = &doc["paths"]["/pets"]["post"];
    assert_eq!(
        post["requestBody"],
        json!({"$ref": "#/components/requestBodies/NewPet"})
    );
    let created = &post["responses"]["201"];
    assert_eq!(
        created["headers"]["X-Rate"],
        json!({"$ref": "#/components/headers/Rate"})
    );
    // Media types are copied in place; the example inside is data and is not followed.
    assert_eq!(
        created["content"]["application/json"],
        json!({"schema": {"$ref": "#/components/schemas/Cat"}, "example": {"kind": "cat", "$ref": "not a reference, just data"}})
    );
    let components = &doc["components"];
    assert_eq!(
        components["headers"]["Rate"]["schema"],
        json!({"type": "integer"})
    );
    assert_eq!(
        components["requestBodies"]["NewPet"]["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/Cat"})
    );
    // Discriminator mappings move with the schemas they name; plain names stay.
    let animal = &components["schemas"]["Animal"];
    assert_eq!(
        animal["oneOf"][0],
        json!({"$ref": "#/components/schemas/Cat"})
    );
    assert_eq!(
        animal["discriminator"]["mapping"],
        json!({"cat": "#/components/schemas/Cat", "dog": "Dog"})
    );
    assert_eq!(
        locate(
            &loaded,
            "/paths/~1pets/post/responses/201/content/application~1json/example/kind"
        ),
        "sections/media.yaml:4:3"
    );
}

// ---------------------------------------------------------------------------------------------
// Errors

#[test]
fn missing_root_file_is_an_error() {
    let d = load::load(&fixtures().join("multi/openapi.yml")).unwrap_err();
    let e = single(&d);
    assert!(e.message.contains("file not found"), "{e}");
    assert_eq!(e.hint.as_deref(), Some("did you mean `openapi.yaml`?"));
}

#[test]
fn missing_file_is_reported_at_the_ref() {
    let d = load::load(&fixtures().join("errors/missing-file.yaml")).unwrap_err();
    let e = single(&d);
    assert_eq!(place(e), "missing-file.yaml:10:11");
    assert!(
        e.message.contains("./Ownr.yaml") && e.message.contains("file not found"),
        "{e}"
    );
    assert_eq!(e.hint.as_deref(), Some("did you mean `Owner.yaml`?"));
    assert_eq!(
        e.pointer.as_deref(),
        Some("/components/schemas/Pet/properties/owner/$ref")
    );
}

#[test]
fn missing_pointer_in_another_file_suggests_a_name() {
    let d = load::load(&fixtures().join("errors/missing-pointer.yaml")).unwrap_err();
    let e = single(&d);
    assert_eq!(place(e), "missing-pointer.yaml:10:11");
    assert!(
        e.message.contains("has no `#/components/schemas/Knd`"),
        "{e}"
    );
    assert_eq!(e.hint.as_deref(), Some("did you mean `Kind`?"));
}

#[test]
fn dangling_local_ref_suggests_a_component() {
    let text = format!(
        "{HEADER}paths: {{}}\ncomponents:\n  schemas:\n    Pet: {{type: object}}\n    Pets:\n      type: array\n      items:\n        $ref: '#/components/schemas/Pett'\n"
    );
    let d = load_err("local.yaml", &text);
    let e = single(&d);
    assert_eq!(place(e), "local.yaml:10:9");
    assert_eq!(
        e.message,
        "unresolved reference `#/components/schemas/Pett`"
    );
    assert_eq!(e.hint.as_deref(), Some("did you mean `Pet`?"));
    assert_eq!(
        e.pointer.as_deref(),
        Some("/components/schemas/Pets/items/$ref")
    );
}

#[test]
fn all_dangling_refs_are_reported_at_once() {
    let text = format!(
        "{HEADER}paths: {{}}\ncomponents:\n  schemas:\n    A: {{$ref: '#/components/schemas/X'}}\n    B: {{$ref: './nowhere.yaml'}}\n"
    );
    let d = load_err("many.yaml", &text);
    assert_eq!(d.errors().count(), 2, "{d}");
}

#[test]
fn syntax_error_in_a_referenced_file_points_into_that_file() {
    let d = load::load(&fixtures().join("errors/bad-syntax.yaml")).unwrap_err();
    let e = single(&d);
    assert_eq!(place(e), "broken.yaml:4:1");
    assert!(e.message.starts_with("YAML syntax error"), "{e}");
}

#[test]
fn root_must_be_a_mapping() {
    let e = load_err("list.yaml", "- a\n- b\n");
    assert_eq!(place(single(&e)), "list.yaml:1:1");
    assert!(single(&e).message.contains("must be a mapping"));
    let e = load_err("scalar.yaml", "just text\n");
    assert!(single(&e).message.contains("not a string"));
    let e = load_err("empty.yaml", "");
    assert!(single(&e).message.contains("empty"));
}

#[test]
fn openapi_version_is_checked() {
    let e = load_err("v.yaml", "info: {title: t, version: '1'}\npaths: {}\n");
    assert_eq!(single(&e).message, "missing `openapi` version field");

    let e = load_err("v.yaml", "info: {title: t}\nswagger: '2.0'\n");
    assert_eq!(place(single(&e)), "v.yaml:2:1");
    assert!(
        single(&e)
            .hint
            .as_deref()
            .unwrap()
            .contains("convert it to OpenAPI 3 first")
    );

    for bad in ["4.0.0", "2.0", "3.3.0", "3", "three"] {
        let e = load_err("v.yaml", &format!("openapi: '{bad}'\n"));
        assert_eq!(
            single(&e).message,
            format!("unsupported OpenAPI version `{bad}`")
        );
        assert_eq!(place(single(&e)), "v.yaml:1:1");
    }
    let e = load_err("v.yaml", "openapi: [3]\n");
    assert!(single(&e).message.contains("must be a version string"));

    for good in ["3.0.0", "3.0.3", "3.1.0", "3.1.1", "3.2.0"] {
        let loaded = load_ok(
            "v.yaml",
            &format!("openapi: {good}\ninfo: {{title: t, version: '1'}}\n"),
        );
        assert_eq!(loaded.version, good);
        assert_eq!(loaded.doc["openapi"], "3.0.3");
        openapi(&loaded);
    }
    // Unquoted, `3.1` is a YAML number; its text is the version.
    assert_eq!(
        load_ok("v.yaml", "openapi: 3.1\ninfo: {title: t, version: '1'}\n").version,
        "3.1"
    );
}

#[test]
fn duplicate_keys_are_errors_at_the_second_key() {
    let e = load_err(
        "dup.yaml",
        "openapi: 3.0.3\ninfo:\n  title: a\n  version: '1'\n  title: b\n",
    );
    assert_eq!(place(single(&e)), "dup.yaml:5:3");
    assert_eq!(single(&e).message, "duplicate key `title`");
    assert_eq!(
        single(&e).hint.as_deref(),
        Some("the first `title` is on line 3")
    );
    let e = load_err(
        "dup.json",
        "{\"openapi\": \"3.0.3\",\n \"openapi\": \"3.1.0\"}",
    );
    assert_eq!(place(single(&e)), "dup.json:2:2");
}

#[test]
fn yaml_syntax_errors_carry_the_parser_position() {
    let e = load_err("s.yaml", "openapi: 3.0.0\ninfo:\n  title: 'unterminated\n");
    assert!(single(&e).message.starts_with("YAML syntax error"));
    assert_eq!(single(&e).location.as_ref().unwrap().line, 3);
    let e = load_err("s.yaml", "openapi: 3.0.0\ninfo: b: c\n");
    assert_eq!(place(single(&e)), "s.yaml:2:8");
}

#[test]
fn tabs_in_indentation_are_errors_with_a_hint() {
    let e = load_err("tabs.yaml", "openapi: 3.0.0\ninfo:\n\ttitle: t\n");
    assert_eq!(place(single(&e)), "tabs.yaml:3:2");
    assert!(single(&e).hint.as_deref().unwrap().contains("tabs"));
}

#[test]
fn one_document_per_file() {
    let e = load_err("multi.yaml", "openapi: 3.0.0\n---\nopenapi: 3.1.0\n");
    assert_eq!(place(single(&e)), "multi.yaml:2:1");
}

#[test]
fn remote_and_anchor_refs_are_refused() {
    let text = format!(
        "{HEADER}components:\n  schemas:\n    A: {{$ref: 'https://example.com/a.yaml'}}\n    B: {{$ref: '#anchor'}}\n    C: {{$ref: '#/bad~2pointer'}}\n"
    );
    let d = load_err("r.yaml", &text);
    let messages: Vec<&str> = d.0.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(d.0.len(), 3, "{d}");
    assert!(messages[0].contains("remote reference"));
    assert!(messages[1].contains("plain-name fragment"));
    assert!(messages[2].contains("not a valid JSON pointer"));
}

#[test]
fn ref_cycle_between_two_files_is_an_error() {
    let d = load::load(&fixtures().join("cycle/openapi.yaml")).unwrap_err();
    let e = single(&d);
    assert!(e.message.starts_with("reference cycle"), "{e}");
    assert_eq!(place(e), "a.yaml:1:1");
}

#[test]
fn ref_to_itself_is_an_error() {
    let text =
        format!("{HEADER}components:\n  schemas:\n    A:\n      $ref: '#/components/schemas/A'\n");
    let e = load_err("self.yaml", &text);
    assert!(single(&e).message.starts_with("reference cycle"));
    assert_eq!(place(single(&e)), "self.yaml:6:7");

    let root = fixtures().join("cycle/root.yaml");
    let text = format!("{HEADER}components:\n  schemas:\n    S:\n      $ref: ./self.yaml\n");
    let e = load::load_str(&root, &text).unwrap_err();
    assert_eq!(place(single(&e)), "self.yaml:1:1");
}

#[test]
fn circular_path_item_refs_are_errors() {
    let root = fixtures().join("cycle/paths.yaml");
    let text = format!("{HEADER}paths:\n  /a:\n    $ref: ./path-a.yaml\n");
    let e = load::load_str(&root, &text).unwrap_err();
    assert!(single(&e).message.starts_with("circular reference"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Normalization

#[test]
fn type_with_null_becomes_nullable() {
    let (_, s) = normalized_schema("      type: [string, 'null']\n      maxLength: 3\n");
    assert_eq!(
        s,
        json!({"type": "string", "nullable": true, "maxLength": 3})
    );
    let (_, s) = normalized_schema("      type: ['null']\n");
    assert_eq!(s, json!({"nullable": true}));
    let (_, s) = normalized_schema("      type: 'null'\n");
    assert_eq!(s, json!({"nullable": true}));
    let (_, s) = normalized_schema("      type: [integer]\n");
    assert_eq!(s, json!({"type": "integer"}));
}

#[test]
fn several_types_become_one_of() {
    let (_, s) = normalized_schema(
        "      description: an id\n      type: [string, integer, 'null']\n      minLength: 1\n      minimum: 0\n      format: int64\n",
    );
    assert_eq!(
        s,
        json!({
            "description": "an id",
            "oneOf": [{"type": "string", "minLength": 1}, {"type": "integer", "minimum": 0, "format": "int64"}],
            "nullable": true
        })
    );
}

#[test]
fn one_of_with_null_becomes_nullable() {
    let (_, s) = normalized_schema(
        "      oneOf:\n        - $ref: '#/components/schemas/T'\n        - type: 'null'\n",
    );
    assert_eq!(
        s,
        json!({"allOf": [{"$ref": "#/components/schemas/T"}], "nullable": true})
    );
    let (_, s) = normalized_schema(
        "      description: d\n      anyOf:\n        - type: 'null'\n        - type: string\n          format: date\n",
    );
    assert_eq!(
        s,
        json!({"description": "d", "type": "string", "format": "date", "nullable": true})
    );
    let (_, s) = normalized_schema(
        "      oneOf:\n        - type: string\n        - type: integer\n        - type: 'null'\n",
    );
    assert_eq!(
        s,
        json!({"oneOf": [{"type": "string"}, {"type": "integer"}], "nullable": true})
    );
}

#[test]
fn const_examples_and_exclusive_bounds() {
    let (_, s) =
        normalized_schema("      type: string\n      const: fixed\n      examples: [a, b]\n");
    assert_eq!(
        s,
        json!({"type": "string", "enum": ["fixed"], "example": "a"})
    );
    let (_, s) = normalized_schema(
        "      type: number\n      exclusiveMinimum: 0\n      exclusiveMaximum: 10.5\n",
    );
    assert_eq!(
        s,
        json!({"type": "number", "minimum": 0, "exclusiveMinimum": true, "maximum": 10.5, "exclusiveMaximum": true})
    );
    // The stricter bound wins when both are given.
    let (_, s) =
        normalized_schema("      type: integer\n      minimum: 5\n      exclusiveMinimum: 1\n");
    assert_eq!(s, json!({"type": "integer", "minimum": 5}));
    // 3.0's boolean form is already right.
    let (_, s) =
        normalized_schema("      type: integer\n      minimum: 5\n      exclusiveMinimum: true\n");
    assert_eq!(
        s,
        json!({"type": "integer", "minimum": 5, "exclusiveMinimum": true})
    );
}

#[test]
fn ref_with_siblings_is_wrapped_in_3_1_only() {
    let (_, s) = normalized_schema(
        "      $ref: '#/components/schemas/T'\n      description: kept beside the ref\n",
    );
    assert_eq!(
        s,
        json!({"$ref": "#/components/schemas/T", "description": "kept beside the ref"})
    );
    let (loaded, s) = normalized_schema(
        "      $ref: '#/components/schemas/T'\n      nullable: true\n      x-sensitive: true\n",
    );
    assert_eq!(
        s,
        json!({"allOf": [{"$ref": "#/components/schemas/T"}], "nullable": true, "x-sensitive": true})
    );
    assert_eq!(
        loaded
            .sources
            .locate("/components/schemas/S/allOf/0/$ref")
            .unwrap()
            .line,
        7
    );

    // In 3.0 keywords beside $ref are ignored by definition; the document is left alone.
    let text = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    T: {type: string}\n    S:\n      $ref: '#/components/schemas/T'\n      nullable: true\n";
    let loaded = load_ok("v30.yaml", text);
    assert_eq!(
        loaded.doc["components"]["schemas"]["S"],
        json!({"$ref": "#/components/schemas/T", "nullable": true})
    );
}

#[test]
fn boolean_schemas_become_objects() {
    let (_, s) = normalized_schema(
        "      type: object\n      properties:\n        any: true\n        none: false\n      additionalProperties: false\n",
    );
    assert_eq!(
        s,
        json!({"type": "object", "properties": {"any": {}, "none": {"not": {}}}, "additionalProperties": false})
    );
}

#[test]
fn only_schema_positions_are_rewritten() {
    let (_, s) = normalized_schema(concat!(
        "      type: object\n",
        "      properties:\n",
        "        type:\n",
        "          type: string\n",
        "        const:\n",
        "          type: [integer, 'null']\n",
        "      example:\n",
        "        type: [not, a, schema]\n",
        "        const: 1\n",
        "      x-annotation:\n",
        "        type: [left, alone]\n",
    ));
    assert_eq!(
        s,
        json!({
            "type": "object",
            "properties": {"type": {"type": "string"}, "const": {"type": "integer", "nullable": true}},
            "example": {"type": ["not", "a", "schema"], "const": 1},
            "x-annotation": {"type": ["left", "alone"]}
        })
    );
}

#[test]
fn schemas_everywhere_are_normalized() {
    let text = format!(
        "{HEADER}{}",
        concat!(
            "paths:\n",
            "  /a/{id}:\n",
            "    parameters:\n",
            "      - {name: id, in: path, required: true, schema: {type: [string, 'null']}}\n",
            "    query:\n",
            "      responses:\n",
            "        '200':\n",
            "          headers:\n",
            "            X-Rate: {schema: {type: [integer, 'null']}}\n",
            "          content:\n",
            "            application/json:\n",
            "              schema:\n",
            "                type: array\n",
            "                items: {const: 1}\n",
            "webhooks:\n",
            "  ping: {post: {responses: {'200': {description: ok}}}}\n",
            "jsonSchemaDialect: https://spec.openapis.org/oas/3.1/dialect/base\n",
        )
    );
    let loaded = load_ok("everywhere.yaml", &text);
    let api = openapi(&loaded);
    let item = &loaded.doc["paths"]["/a/{id}"];
    assert_eq!(
        item["parameters"][0]["schema"],
        json!({"type": "string", "nullable": true})
    );
    // 3.2's `query` operation is kept for later stages; openapiv3 ignores it.
    let response = &item["query"]["responses"]["200"];
    assert_eq!(
        response["headers"]["X-Rate"]["schema"],
        json!({"type": "integer", "nullable": true})
    );
    assert_eq!(
        response["content"]["application/json"]["schema"]["items"],
        json!({"enum": [1]})
    );
    // 3.2 made response descriptions optional; openapiv3 needs one.
    assert_eq!(response["description"], "");
    assert!(loaded.doc.get("webhooks").is_none() && loaded.doc.get("jsonSchemaDialect").is_none());
    assert_eq!(api.paths.paths.len(), 1);
}

#[test]
fn paths_is_added_when_missing() {
    let loaded = load_ok("nopaths.yaml", HEADER);
    assert_eq!(loaded.doc["paths"], json!({}));
    openapi(&loaded);
}

#[test]
fn unsupported_3_2_features_are_errors() {
    let text = format!(
        "{HEADER}paths:\n  /s:\n    get:\n      parameters:\n        - {{name: q, in: querystring, content: {{}}}}\n      responses: {{}}\n"
    );
    let e = load_err("qs.yaml", &text);
    assert!(single(&e).message.contains("querystring"));
    assert_eq!(place(single(&e)), "qs.yaml:7:21");
}

#[test]
fn unquoted_info_version_keeps_its_text() {
    let loaded = load_ok(
        "ver.yaml",
        "openapi: 3.0.3\ninfo: {title: t, version: 1.10}\n",
    );
    assert_eq!(loaded.doc["info"]["version"], "1.10");
    openapi(&loaded);
}

// ---------------------------------------------------------------------------------------------
// YAML details

#[test]
fn scalars_follow_the_yaml_1_2_core_schema() {
    let loaded = load_ok(
        "scalars.yaml",
        "openapi: 3.0.0\nx: [0x1F, 0o17, +5, -0, 18446744073709551615, 123456789012345678901234567890, 1e3, .5, .inf, yes, ~, Null, '1', \"true\", !!str 5, 1.0]\n",
    );
    assert_eq!(
        loaded.doc["x"],
        json!([
            31,
            15,
            5,
            0,
            18446744073709551615u64,
            1.2345678901234568e29,
            1000.0,
            0.5,
            ".inf",
            "yes",
            null,
            null,
            "1",
            "true",
            "5",
            1.0
        ])
    );
}

#[test]
fn map_order_and_merge_keys() {
    let loaded = load_ok(
        "order.yaml",
        "openapi: 3.0.0\nz: 1\na: 2\nbase: &b {p: 1, q: 2}\nd:\n  <<: *b\n  q: 3\n",
    );
    let keys: Vec<&String> = loaded.doc.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["openapi", "z", "a", "base", "d", "paths"]);
    assert_eq!(loaded.doc["d"], json!({"q": 3, "p": 1}));
}

#[test]
fn json_input_with_positions() {
    let text = "{\n\t\"openapi\": \"3.1.0\",\n\t\"info\": {\"title\": \"t\", \"version\": \"1\"},\n\t\"paths\": {\"/x\": {}}\n}\n";
    let loaded = load_ok("spec.json", text);
    assert_eq!(loaded.doc["paths"], json!({"/x": {}}));
    let loc = loaded.sources.locate("/paths/~1x").unwrap();
    assert_eq!((loc.line, loc.column), (4, 12));
}

#[test]
fn bom_and_crlf_are_accepted() {
    let loaded = load_ok(
        "win.yaml",
        "\u{feff}openapi: 3.0.0\r\ninfo:\r\n  title: t\r\n  version: '1'\r\n",
    );
    assert_eq!(loaded.doc["info"]["title"], "t");
    let loc = loaded.sources.locate("/info/title").unwrap();
    assert_eq!((loc.line, loc.column), (3, 3));
}

#[test]
fn push_pointer_escapes() {
    assert_eq!(load::push_pointer("", "paths"), "/paths");
    assert_eq!(
        load::push_pointer("/paths", "/pets/{id}"),
        "/paths/~1pets~1{id}"
    );
    assert_eq!(load::push_pointer("/a", "x~y"), "/a/x~0y");
    assert_eq!(load::push_pointer("/a", ""), "/a/");
}

#[test]
fn escaped_and_percent_encoded_refs_resolve() {
    let text = format!(
        "{HEADER}paths: {{}}\ncomponents:\n  schemas:\n    'a/b': {{type: string}}\n    'c d': {{type: string}}\n    U:\n      type: object\n      properties:\n        x: {{$ref: '#/components/schemas/a~1b'}}\n        y: {{$ref: '#/components/schemas/c%20d'}}\n"
    );
    load_ok("esc.yaml", &text);
}

// ---------------------------------------------------------------------------------------------
// Hostile input: errors, never panics, hangs or stack overflows

#[test]
fn deep_nesting_is_an_error() {
    let inputs = [
        format!("openapi: 3.0.0\nx:\n{}1\n", "- ".repeat(10_000)),
        format!(
            "openapi: 3.0.0\nx: {}{}\n",
            "[".repeat(10_000),
            "]".repeat(10_000)
        ),
        format!(
            "{{\"openapi\": \"3.0.0\", \"x\": {}1{}}}",
            "{\"a\":".repeat(10_000),
            "}".repeat(10_000)
        ),
        (0..1000).fold(String::from("openapi: 3.0.0\n"), |mut s, i| {
            s.push_str(&" ".repeat(i));
            s.push_str("a:\n");
            s
        }),
    ];
    for text in inputs {
        let e = load_err("deep.yaml", &text);
        assert!(single(&e).location.is_some());
    }
    let e = load_err(
        "deep.yaml",
        &format!("openapi: 3.0.0\nx:\n{}1\n", "- ".repeat(10_000)),
    );
    assert!(single(&e).message.contains("nested more than 100 levels"));
}

/// Normalization can nest a document deeper than its file was; the limit holds for the result.
#[test]
fn depth_limit_applies_after_normalization() {
    // The innermost schema sits at depth 99: root, components, schemas, S, items, then 47 times
    // properties and a.
    let nested = |leaf: &str| {
        let inner = (0..47).fold(leaf.to_string(), |acc, _| {
            format!("{{\"properties\": {{\"a\": {acc}}}}}")
        });
        format!(
            "{{\"openapi\": \"3.1.0\", \"info\": {{\"title\": \"t\", \"version\": \"1\"}}, \"components\": {{\"schemas\": {{\"S\": {{\"items\": {inner}}}}}}}}}"
        )
    };
    load_ok("depth.json", &nested("{\"type\": \"string\"}"));
    // Splitting a type list adds a `oneOf` list and a branch below the schema.
    let e = load_err(
        "depth.json",
        &nested("{\"type\": [\"string\", \"integer\"], \"minLength\": 1}"),
    );
    assert!(
        single(&e).message.contains("nested more than 100 levels"),
        "{e}"
    );
}

#[test]
fn alias_bomb_is_an_error() {
    let mut text = String::from("openapi: 3.0.0\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let started = std::time::Instant::now();
    let e = load_err("bomb.yaml", &text);
    assert!(single(&e).message.contains("too large"), "{e}");
    assert!(started.elapsed().as_secs() < 20);
}

#[test]
fn recursive_alias_is_an_error() {
    let e = load_err("rec.yaml", "openapi: 3.0.0\nx: &a\n  b: *a\n");
    assert_eq!(place(single(&e)), "rec.yaml:3:6");
}

#[test]
fn truncated_documents_never_panic() {
    let text = std::fs::read_to_string(arches().join("head-2025-12/storage.openapi.bundled.yaml"))
        .unwrap();
    let chars: Vec<char> = text.chars().collect();
    for cut in (0..chars.len()).step_by(997) {
        let truncated: String = chars[..cut].iter().collect();
        let _ = load::load_str(Path::new("cut.yaml"), &truncated);
    }
    let e = load_err("cut.yaml", "openapi: 3.0.0\ninfo:\n  title: \"abc");
    assert!(single(&e).message.starts_with("YAML syntax error"));
}

/// A small deterministic mutation fuzzer over a real spec and a YAML-feature-heavy one.
#[test]
fn mutated_documents_never_panic() {
    let seeds = [
        std::fs::read_to_string(arches().join("head-2025-12/example-basic-todo.openapi.yaml"))
            .unwrap(),
        format!(
            "{HEADER}paths: {{}}\ncomponents:\n  schemas:\n    A: &a {{type: [string, 'null'], const: x}}\n    B:\n      <<: *a\n      oneOf: [{{$ref: '#/components/schemas/A'}}, {{type: 'null'}}]\n    C: {{$ref: ./nowhere.yaml}}\n    D: |\n      text\n"
        ),
    ];
    let noise: Vec<char> = "{}[]:,-?&*!|>'\"#%~\t\n $<0.null".chars().collect();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n.max(1) as u64) as usize
    };
    for round in 0..1500 {
        let mut chars: Vec<char> = seeds[round % seeds.len()].chars().collect();
        for _ in 0..1 + next(4) {
            let at = next(chars.len() + 1);
            match next(4) {
                0 => chars.insert(at, noise[next(noise.len())]),
                1 if at < chars.len() => {
                    chars.remove(at);
                }
                2 => {
                    let end = (at + next(40)).min(chars.len());
                    let slice: Vec<char> = chars[at..end].to_vec();
                    let to = next(chars.len() + 1);
                    chars.splice(to..to, slice);
                }
                _ => chars.truncate(at.max(1)),
            }
        }
        let text: String = chars.into_iter().collect();
        let _ = load::load_str(&fixtures().join("fuzz.yaml"), &text);
    }
}
