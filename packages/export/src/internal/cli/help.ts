/**
 * The CLI's `--help` page: @effect/cli's, built from the command's help document, without the generic line
 * ("A user-defined piece of text.") that it puts above the description of every free-text flag; the description under
 * it says what the flag takes. The line is taken out of the document, before it is rendered.
 */
import * as CliConfig from "@effect/cli/CliConfig"
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Span from "@effect/cli/HelpDoc/Span"
import * as Primitive from "@effect/cli/Primitive"
import * as Usage from "@effect/cli/Usage"
import { plainText } from "./flags.js"

const generic = plainText(HelpDoc.p(Primitive.getHelp(Primitive.text)))

const isGeneric = (doc: HelpDoc.HelpDoc): boolean => doc._tag === "Paragraph" && plainText(doc) === generic

/** `doc` without the generic paragraphs. */
const withoutGeneric = (doc: HelpDoc.HelpDoc): HelpDoc.HelpDoc => {
  switch (doc._tag) {
    case "Sequence":
      return isGeneric(doc.left)
        ? withoutGeneric(doc.right)
        : isGeneric(doc.right)
        ? withoutGeneric(doc.left)
        : HelpDoc.sequence(withoutGeneric(doc.left), withoutGeneric(doc.right))
    case "DescriptionList": {
      const [[span, help], ...rest] = doc.definitions
      return HelpDoc.descriptionList([
        [span, withoutGeneric(help)],
        ...rest.map(([span, help]): [Span.Span, HelpDoc.HelpDoc] => [span, withoutGeneric(help)])
      ])
    }
    case "Enumeration":
      return HelpDoc.enumeration([withoutGeneric(doc.elements[0]), ...doc.elements.slice(1).map(withoutGeneric)])
    default:
      return doc
  }
}

/** Whether the arguments (after the executable) ask for the help page, as @effect/cli's built-in option does. */
export const isHelpRequested = (args: ReadonlyArray<string>): boolean => args.includes("--help") || args.includes("-h")

/** The help page of `command` (banner, version, usage, description, options), rendered for a terminal. */
export const page = <Name extends string, R, E, A>(
  command: Command.Command<Name, R, E, A>,
  name: string,
  version: string
): string => {
  const config = CliConfig.defaultConfig
  const usage = Usage.enumerate(Command.getUsage(command), config).map((span) =>
    HelpDoc.p(Span.concat(Span.text("$ "), span))
  ).reduceRight((rest, line) => HelpDoc.sequence(line, rest), HelpDoc.empty)
  return HelpDoc.toAnsiText(
    [
      HelpDoc.p(Span.text(`${name} ${version}`)),
      HelpDoc.sequence(HelpDoc.h1("USAGE"), usage),
      withoutGeneric(Command.getHelp(command, config))
    ].reduce((doc, part) => HelpDoc.sequence(doc, part), HelpDoc.h1(Span.code(name)))
  )
}
