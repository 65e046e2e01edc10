import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";

/** A reply: text, or a function of the prompt, or an error to throw. */
export type ScriptedReply = string | Error | ((messages: BaseMessage[]) => string);

/**
 * A chat model that replays scripted replies in order and records every
 * prompt it receives. It supports neither tool calling nor structured
 * output, so the Generator reads JSON from its text.
 */
export class ScriptedChatModel extends BaseChatModel {
  readonly prompts: BaseMessage[][] = [];
  private next = 0;

  constructor(
    private readonly replies: ScriptedReply[],
    private readonly fallback?: ScriptedReply,
  ) {
    super({});
  }

  _llmType(): string {
    return "scripted";
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    this.prompts.push(messages);
    const reply = this.replies[this.next++] ?? this.fallback;
    if (reply === undefined) {
      throw new Error(`scripted model ran out of replies after ${this.replies.length}`);
    }
    if (reply instanceof Error) throw reply;
    const text = typeof reply === "function" ? reply(messages) : reply;
    const message = new AIMessage({
      content: text,
      usage_metadata: { input_tokens: 100, output_tokens: 10, total_tokens: 110 },
    });
    return { generations: [{ text, message }] };
  }
}

/**
 * A scripted model that an agent can bind tools to. Its replies are
 * AIMessages, so a script can contain tool calls.
 */
export class ScriptedToolCallingModel extends BaseChatModel {
  readonly prompts: BaseMessage[][] = [];
  private next = 0;

  constructor(private readonly replies: AIMessage[]) {
    super({});
  }

  _llmType(): string {
    return "scripted-tool-calling";
  }

  bindTools(): this {
    return this;
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    this.prompts.push(messages);
    const message = this.replies[this.next++];
    if (!message) {
      throw new Error(`scripted model ran out of replies after ${this.replies.length}`);
    }
    return { generations: [{ text: String(message.content), message }] };
  }
}
