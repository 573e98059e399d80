/** The difference explainer: why two images differ, level by level. */
export { DEFAULT_LIMITS, DEFAULT_PLATFORM, type ExplainOptions, explainImages, type ImageReference } from "./explain.ts";
export { renderExplanationMarkdown } from "./render-markdown.ts";
export { renderExplanationText } from "./render-text.ts";
export * from "./types.ts";
