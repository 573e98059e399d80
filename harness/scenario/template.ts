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

/** The reference names a scenario may use, for validation before anything runs. */
export const TEMPLATE_NAMES = ["registry", "image", "scenario", "iteration"] as const;

export function templateReferences(text: string): Array<{ name: string; arg?: string }> {
  return [...text.matchAll(REFERENCE)].map((m) => ({ name: m[1]!, ...(m[2] ? { arg: m[2] } : {}) }));
}

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
