/**
 * Settings read from the environment. This is the only module that reads
 * `process.env`.
 */
export interface EnvironmentSettings {
  /** Default LLM spec for both roles (COLLM_NAS_LLM), e.g. openai:gpt-4o-mini. */
  llm?: string;
  /** OPENAI_API_KEY. Never logged or written to a file. */
  openaiApiKey?: string;
  /** OPENAI_BASE_URL, for OpenAI-compatible servers. */
  openaiBaseUrl?: string;
  /** Editor command for reviewed strategies: VISUAL, else EDITOR. */
  editor?: string;
}

export function readEnvironment(env: NodeJS.ProcessEnv = process.env): EnvironmentSettings {
  const nonEmpty = (value: string | undefined) =>
    value !== undefined && value.trim() !== "" ? value.trim() : undefined;
  return {
    llm: nonEmpty(env.COLLM_NAS_LLM),
    openaiApiKey: nonEmpty(env.OPENAI_API_KEY),
    openaiBaseUrl: nonEmpty(env.OPENAI_BASE_URL),
    editor: nonEmpty(env.VISUAL) ?? nonEmpty(env.EDITOR),
  };
}
