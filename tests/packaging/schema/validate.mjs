// Validates Kubernetes objects against the JSON schemas that
// kubernetes-models generates from the Kubernetes OpenAPI spec and the
// Prometheus Operator CRDs. Offline: no cluster, no network.
//
// usage: node validate.mjs OBJECTS.json
//   OBJECTS.json: a JSON array of objects (tests/packaging/k8s_test.py
//   writes it from `kubectl kustomize` output).
// Prints one line per object; exits 1 if any object is invalid or of a
// kind this script has no schema for.
//
// The schemas check types, required fields and enums; they do not reject
// unknown fields (the generated schemas allow additional properties).
import { readFileSync } from "node:fs";

function modulePath(apiVersion, kind) {
  const slash = apiVersion.indexOf("/");
  if (slash < 0) return `kubernetes-models/${apiVersion}/${kind}`;  // core
  const group = apiVersion.slice(0, slash);
  const version = apiVersion.slice(slash + 1);
  if (group === "monitoring.coreos.com") {
    return `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`;
  }
  return `kubernetes-models/${group}/${version}/${kind}`;
}

const objects = JSON.parse(readFileSync(process.argv[2], "utf8"));
let failed = 0;
for (const obj of objects) {
  const id = `${obj.kind}/${obj.metadata?.name}`;
  let Model;
  try {
    const mod = await import(modulePath(obj.apiVersion, obj.kind));
    Model = mod[obj.kind];
  } catch (e) {
    console.log(`FAIL ${id}: no schema for ${obj.apiVersion} ${obj.kind}`);
    failed++;
    continue;
  }
  try {
    new Model(obj).validate();
    console.log(`ok ${id} (${obj.apiVersion})`);
  } catch (e) {
    console.log(`FAIL ${id}: ${e.message}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
