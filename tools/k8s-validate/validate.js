#!/usr/bin/env node
// Validates Kubernetes manifests against the Kubernetes API's own schemas, offline.
//
//   node validate.js PATH...   (a directory means every file its kustomization.yaml lists)
//
// Every document is checked twice, both times against kubernetes-models, whose schemas and types
// are generated from the Kubernetes OpenAPI document and ship inside the package (4.5.1 has the
// fields of Kubernetes 1.33, e.g. a container lifecycle's stopSignal):
//  1. its JSON-schema validators (ajv): types, required fields, formats such as int32;
//  2. its TypeScript declarations: each document is compiled as a typed object literal, which
//     catches wrong types, and every field its declared type lacks is reported, at any depth.
//     The schemas alone let unknown fields through; kubectl's strict field validation does not.
// A document whose apiVersion and kind the package does not know is an error, not a skip.
// YAML is read as 1.1, as kubectl reads it (an unquoted yes or on is a boolean there).
// Exit status: 0 when every document passes, 1 when one fails, 2 on bad usage.
"use strict";

const fs = require("fs");
const path = require("path");
const YAML = require("yaml");
const ts = require("typescript");

function manifestFiles(arg) {
  if (!fs.statSync(arg).isDirectory()) {
    return [arg];
  }
  const kustomization = path.join(arg, "kustomization.yaml");
  if (!fs.existsSync(kustomization)) {
    throw new Error(`${arg}: a directory needs a kustomization.yaml listing its resources`);
  }
  const resources = YAML.parse(fs.readFileSync(kustomization, "utf8")).resources || [];
  return resources.map((r) => path.join(arg, r));
}

/** Where kubernetes-models keeps a group/version: "apps/v1" as is, the core "v1" at the root. */
function modelPath(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string" || !/^[A-Za-z0-9]+$/.test(kind)) {
    return null;
  }
  const dir = path.join(__dirname, "node_modules", "kubernetes-models", apiVersion);
  return fs.existsSync(path.join(dir, kind + ".d.ts")) ? `kubernetes-models/${apiVersion}/${kind}` : null;
}

if (process.argv.length <= 2) {
  console.error("usage: node validate.js PATH...");
  process.exit(2);
}

const problems = [];
const typed = []; // { where, source } for the compiler

for (const arg of process.argv.slice(2)) {
  for (const file of manifestFiles(arg)) {
    const docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"), { uniqueKeys: true, version: "1.1" });
    docs.forEach((doc, i) => {
      const at = `${file} document ${i + 1}`;
      if (doc.errors.length > 0) {
        doc.errors.forEach((e) => problems.push(`${at}: YAML: ${e.message}`));
        return;
      }
      const obj = doc.toJS();
      if (obj === null || obj === undefined) {
        return;
      }
      const where = `${at} (${obj.kind} ${obj.metadata && obj.metadata.name})`;
      const model = modelPath(obj.apiVersion, obj.kind);
      if (model === null) {
        problems.push(`${where}: no Kubernetes schema for apiVersion ${obj.apiVersion}, kind ${obj.kind}`);
        return;
      }
      const Model = require(model)[obj.kind];
      try {
        new Model(obj).validate();
      } catch (e) {
        problems.push(`${where}: ${e.message}`);
      }
      const source = `import type { I${obj.kind} } from "${model}";\n`
          + `export const manifest: I${obj.kind} = ${JSON.stringify(obj, null, 2)};\n`;
      typed.push({ where, source });
    });
  }
}

/** "Object literal may only specify known properties": the compiler stops at the first. */
const EXCESS_PROPERTY = 2353;

/** Reports every field of an object literal that its declared type does not have, at any depth. */
function unknownFields(checker, node, at, where) {
  if (ts.isArrayLiteralExpression(node)) {
    node.elements.forEach((e, i) => unknownFields(checker, e, `${at}[${i}]`, where));
    return;
  }
  if (!ts.isObjectLiteralExpression(node)) {
    return;
  }
  const declared = checker.getContextualType(node);
  const types = declared === undefined ? [] : declared.isUnion() ? declared.types : [declared];
  const objects = types.filter((t) => t.flags & ts.TypeFlags.Object);
  const open = objects.length === 0 || objects.some((t) => checker.getIndexInfoOfType(t, ts.IndexKind.String));
  for (const p of node.properties) {
    const name = p.name && (ts.isStringLiteral(p.name) || ts.isIdentifier(p.name)) ? p.name.text : undefined;
    const field = at === "" ? name : `${at}.${name}`;
    if (!open && name !== undefined && !objects.some((t) => checker.getPropertyOfType(t, name))) {
      const type = objects.map((t) => checker.typeToString(t)).join(" | ");
      problems.push(`${where}: unknown field ${field} (${type} has no "${name}")`);
      continue;
    }
    if (ts.isPropertyAssignment(p)) {
      unknownFields(checker, p.initializer, field, where);
    }
  }
}

// One virtual .ts file per document, beside node_modules so the imports resolve.
const options = {
  strict: true, noEmit: true, skipLibCheck: true, types: [], lib: ["lib.es2020.d.ts"],
  target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10,
};
const virtual = new Map(typed.map((t, i) => [path.join(__dirname, `manifest-${i}.ts`), t]));
const host = ts.createCompilerHost(options);
const getSourceFile = host.getSourceFile;
host.getSourceFile = (name, version, onError) => virtual.has(name)
  ? ts.createSourceFile(name, virtual.get(name).source, version)
  : getSourceFile(name, version, onError);
const fileExists = host.fileExists;
host.fileExists = (name) => virtual.has(name) || fileExists(name);
const readFile = host.readFile;
host.readFile = (name) => virtual.has(name) ? virtual.get(name).source : readFile(name);

if (virtual.size > 0) {
  const program = ts.createProgram([...virtual.keys()], options, host);
  const checker = program.getTypeChecker();
  for (const [name, t] of virtual) {
    const file = program.getSourceFile(name);
    file.forEachChild((statement) => {
      if (ts.isVariableStatement(statement)) {
        statement.declarationList.declarations.forEach((d) => unknownFields(checker, d.initializer, "", t.where));
      }
    });
  }
  for (const d of ts.getPreEmitDiagnostics(program)) {
    if (d.code === EXCESS_PROPERTY) {
      continue; // unknownFields reported every one, the compiler only the first of a literal
    }
    const message = ts.flattenDiagnosticMessageText(d.messageText, " ");
    const t = d.file && virtual.get(d.file.fileName);
    if (t === undefined) {
      problems.push(`TypeScript: ${message}`);
      continue;
    }
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    const text = t.source.split("\n")[line].trim();
    problems.push(`${t.where}: ${message} (at ${text})`);
  }
}

problems.forEach((p) => console.error(p));
console.log(problems.length === 0
  ? `${typed.length} documents valid`
  : `${problems.length} problems in ${typed.length} documents`);
process.exit(problems.length === 0 ? 0 : 1);
