/** The difference explainer: why two images differ, level by level. */
export { DEFAULT_LIMITS, explainImages } from "./explain.ts";
export { renderExplanationMarkdown } from "./render-markdown.ts";
export { renderExplanationText } from "./render-text.ts";
export * from "./types.ts";
