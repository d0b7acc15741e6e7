import effectPlugin from "@effect/eslint-plugin"
import js from "@eslint/js"
import tseslint from "typescript-eslint"

export default tseslint.config(
  { ignores: ["**/dist/**", "**/build/**", "**/node_modules/**", "**/.tsbuildinfo/**", "out/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { "@effect": effectPlugin },
    rules: {
      "@effect/dprint": ["error", {
        config: {
          indentWidth: 2,
          lineWidth: 120,
          semiColons: "asi",
          quoteStyle: "alwaysDouble",
          trailingCommas: "never",
          operatorPosition: "maintain",
          "arrowFunction.useParentheses": "force"
        }
      }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-namespace": "off",
      "no-constant-condition": "off"
    }
  },
  {
    // Library code imports Effect modules one by one: a package barrel loads every module (0.5 s of CLI start-up).
    files: ["packages/*/src/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        paths: ["effect", "@effect/platform", "@effect/platform-node", "@effect/cli"].map((name) => ({
          name,
          message: `import the module itself, e.g. "${name}/<Module>"`
        }))
      }]
    }
  }
)
