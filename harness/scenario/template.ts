/** Values `{{...}}` references resolve to while a scenario runs. */
export interface TemplateContext {
  /** host:port of the test registry as builders see it. */
  readonly registry: string;
  /** Base image name → digest-pinned reference in the test registry. */
  readonly images: ReadonlyMap<string, string>;
  readonly scenario: string;
  readonly iteration?: number;
}

const REFERENCE = /\{\{\s*([a-z]+)(?::([A-Za-z0-9._-]+))?\s*\}\}/g;
const ANY_BRACES = /\{\{[^}]*\}\}/g;

/** The reference names a scenario may use, for validation before anything runs. */
const TEMPLATE_NAMES = ["registry", "image", "scenario", "iteration"] as const;

/** Problems with the `{{…}}` references of a text, before anything renders it. */
export function templateProblems(text: string, scope: { readonly inRepeat: boolean; readonly images: ReadonlySet<string> }): string[] {
  const problems: string[] = [];
  for (const whole of text.match(ANY_BRACES) ?? []) {
    const m = new RegExp(`^${REFERENCE.source}$`).exec(whole);
    if (!m) {
      problems.push(`${whole} is not a reference (known: ${TEMPLATE_NAMES.map((n) => (n === "image" ? "{{image:NAME}}" : `{{${n}}}`)).join(", ")})`);
      continue;
    }
    const [, name, arg] = m;
    if (!(TEMPLATE_NAMES as readonly string[]).includes(name!)) problems.push(`unknown reference ${whole} (known: ${TEMPLATE_NAMES.join(", ")})`);
    else if (name === "image" && !arg) problems.push(`${whole} needs a base image name, e.g. {{image:busybox}}`);
    else if (name === "image" && !scope.images.has(arg!)) problems.push(`${whole}: no base image named "${arg}" (known: ${[...scope.images].join(", ")})`);
    else if (name !== "image" && arg) problems.push(`${whole} takes no argument`);
    else if (name === "iteration" && !scope.inRepeat) problems.push(`${whole} is only defined inside a repeat step`);
  }
  return problems;
}

/** Resolves every reference; the loader has already refused texts whose references cannot resolve. */
export function renderTemplate(text: string, ctx: TemplateContext): string {
  return text.replace(REFERENCE, (whole, name: string, arg: string | undefined) => {
    switch (name) {
      case "registry":
        return ctx.registry;
      case "scenario":
        return ctx.scenario;
      case "iteration":
        if (ctx.iteration === undefined) throw new Error(`${whole} is only defined inside a repeat step`);
        return String(ctx.iteration);
      case "image": {
        const ref = arg ? ctx.images.get(arg) : undefined;
        if (!ref) throw new Error(`${whole}: no base image named "${arg ?? ""}" (known: ${[...ctx.images.keys()].join(", ")})`);
        return ref;
      }
      default:
        throw new Error(`${whole}: unknown reference`);
    }
  });
}
