/**
 * Fails when an export of a package's public modules has no JSDoc line, `@since` or `@category`.
 *
 * `@effect/docgen` enforces the line and `@since` (and type-checks and runs `@example`s); it only checks
 * `@category` when the tag is present, so this closes that gap. Barrel re-exports (`export * as X`) and the
 * module's own overview comment need no category, as in Effect's packages.
 *
 * Usage: tsx scripts/check-jsdoc.ts packages/core packages/testkit packages/export
 */
import * as fs from "node:fs"
import * as path from "node:path"
import ts from "typescript"

const problems: Array<string> = []

const walk = (dir: string): Array<string> =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === "internal" ? [] : walk(full)
    return entry.name.endsWith(".ts") ? [full] : []
  })

const isExported = (node: ts.Node): boolean =>
  ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)

const nameOf = (node: ts.Node): string => {
  if (ts.isVariableStatement(node)) return node.declarationList.declarations.map((d) => d.name.getText()).join(", ")
  const name = (node as { name?: ts.Node }).name
  return name ? name.getText() : "<anonymous>"
}

const check = (file: string, node: ts.Node, owner: string, needsCategory: boolean) => {
  const where = `${file}#${owner}${nameOf(node)}`
  const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc)
  const doc = docs[docs.length - 1]
  if (doc === undefined) {
    problems.push(`${where}: no JSDoc`)
    return
  }
  const text = typeof doc.comment === "string" ? doc.comment : (doc.comment ?? []).map((c) => c.text).join("")
  if (text.trim() === "") problems.push(`${where}: no description line`)
  const tags = (doc.tags ?? []).map((t) => t.tagName.text)
  if (!tags.includes("since")) problems.push(`${where}: no @since`)
  if (needsCategory && !tags.includes("category")) problems.push(`${where}: no @category`)
}

const visit = (file: string, statements: ts.NodeArray<ts.Statement>, owner: string) => {
  for (const node of statements) {
    if (ts.isExportDeclaration(node)) {
      // `export * as X from "./X.js"` in a barrel: a line and @since, no category.
      check(file, node, owner, false)
      continue
    }
    if (!isExported(node)) continue
    check(file, node, owner, true)
    if (ts.isModuleDeclaration(node) && node.body && ts.isModuleBlock(node.body)) {
      visit(file, node.body.statements, `${owner}${node.name.getText()}.`)
    }
  }
}

for (const pkg of process.argv.slice(2)) {
  for (const file of walk(path.join(pkg, "src"))) {
    const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true)
    visit(file, source.statements, "")
  }
}

if (problems.length > 0) {
  console.error(problems.join("\n"))
  console.error(`${problems.length} export(s) without a JSDoc line, @since or @category`)
  process.exit(1)
}
console.log("every export has a JSDoc line, @since and @category")
