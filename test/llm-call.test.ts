import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { addUsage, countTokens, readProposals } from "../src/llm/call.ts";
import { extractJson } from "../src/llm/extract-json.ts";

const empty = { calls: 0, promptTokens: 0, completionTokens: 0 };

describe("token usage", () => {
  test("uses the reported usage", () => {
    const reply = new AIMessage({
      content: "ok",
      usage_metadata: { input_tokens: 12, output_tokens: 3, total_tokens: 15 },
    });
    assert.deepEqual(addUsage(empty, reply, [new HumanMessage("hi")]), {
      calls: 1,
      promptTokens: 12,
      completionTokens: 3,
    });
  });

  test("counts tokens when none are reported", () => {
    const prompt = [new HumanMessage("Propose 10 new architectures.")];
    const reply = new AIMessage({ content: '{"candidates": []}' });
    const usage = addUsage(empty, reply, prompt);
    assert.equal(usage.promptTokens, countTokens("Propose 10 new architectures."));
    assert.equal(usage.completionTokens, countTokens('{"candidates": []}'));
    assert.ok(usage.promptTokens > 3);
  });
});

describe("extractJson", () => {
  const cases: [string, string, unknown][] = [
    ["fenced block", 'Here you go:\n```json\n{"a": 1}\n```\nDone.', { a: 1 }],
    ["prose around", 'I suggest {"a": [1, 2]} as the answer', { a: [1, 2] }],
    ["trailing commas", '{"a": [1, 2,], }', { a: [1, 2] }],
    ["single quotes", "{'a': 'x'}", { a: "x" }],
    ["truncated tail", '{"c": [{"x": 1}, {"x": 2}, {"x"', { c: [{ x: 1 }, { x: 2 }] }],
    ["a top-level array", "[1, 2, 3]", [1, 2, 3]],
  ];
  for (const [name, text, expected] of cases) {
    test(`reads ${name}`, () => {
      assert.deepEqual(extractJson(text), expected);
    });
  }

  test("returns undefined without JSON", () => {
    assert.equal(extractJson("I cannot help with that."), undefined);
  });
});

describe("readProposals", () => {
  test("reads tool-call arguments", () => {
    const message = new AIMessage({
      content: "",
      tool_calls: [{ id: "1", name: "propose_architectures", args: { candidates: [{ arch: "a" }] } }],
    });
    const result = readProposals(message);
    assert.deepEqual(result.proposals, [{ arch: "a" }]);
    assert.equal(result.note, undefined);
  });

  test("notes a truncated reply", () => {
    const result = readProposals(new AIMessage('{"candidates": [{"arch": "a"}, {"arch": "b'));
    assert.deepEqual(result.proposals, [{ arch: "a" }]);
    assert.match(result.note ?? "", /truncated; its incomplete last item was dropped/);
  });

  test("notes a reply without a list", () => {
    const result = readProposals(new AIMessage('{"arch": "a"}'));
    assert.deepEqual(result.proposals, [{ arch: "a" }]);
    assert.match(result.note ?? "", /no "candidates" list/);
  });
});
