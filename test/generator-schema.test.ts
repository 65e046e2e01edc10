import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { HumanMessage, SystemMessage } from "@langchain/core/messages";
import { ChatOpenAI } from "@langchain/openai";
import { z } from "zod";
import {
  callGenerator,
  GENERATOR_OUTPUT_NAME,
  type StructuredOutputMode,
} from "../src/llm/call.ts";
import { createAutoFormerSpace } from "../src/spaces/autoformer.ts";
import { createNb201Space } from "../src/spaces/nb201.ts";
import { createOfaMbv3Space } from "../src/spaces/ofa-mbv3.ts";
import { createSposSpace } from "../src/spaces/spos-shufflenet.ts";
import type { SearchSpace } from "../src/spaces/types.ts";
import { strictSchemaViolations, type StrictRule } from "./helpers/strict-schema.ts";

type RequestBody = Record<string, any>;

/**
 * Sends one Generator call through the real ChatOpenAI client and returns
 * the request body it built. A fetch stub replies in place of a server,
 * with an empty candidate list in the requested shape.
 */
async function capturedRequest(
  candidate: z.ZodType,
  mode: StructuredOutputMode,
): Promise<RequestBody> {
  let captured: RequestBody | undefined;
  const fetchStub = async (_url: unknown, init?: { body?: unknown }) => {
    captured = JSON.parse(String(init?.body));
    const json = '{"candidates": []}';
    const message = captured!.tools
      ? {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: "call_1",
              type: "function",
              function: { name: GENERATOR_OUTPUT_NAME, arguments: json },
            },
          ],
        }
      : { role: "assistant", content: json };
    const completion = {
      id: "chatcmpl-stub",
      object: "chat.completion",
      created: 0,
      model: "test-model",
      choices: [{ index: 0, message, finish_reason: "stop", logprobs: null }],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    };
    return new Response(JSON.stringify(completion), {
      status: 200,
      headers: { "content-type": "application/json" },
    });
  };
  const model = new ChatOpenAI({
    model: "test-model",
    apiKey: "sk-test-unused",
    maxRetries: 0,
    configuration: { baseURL: "http://127.0.0.1:9/v1", fetch: fetchStub },
  });
  await callGenerator(
    model,
    [new SystemMessage("You are the Generator."), new HumanMessage("Propose 2 new architectures.")],
    candidate,
    mode,
  );
  assert.ok(captured, "the client sent no request");
  return captured;
}

function violationsOf(schema: Record<string, unknown>, rule: StrictRule) {
  return strictSchemaViolations(schema).filter((v) => v.rule === rule);
}

/** A small AutoFormer configuration, so the test needs no data files. */
const AUTOFORMER_CONFIG = {
  supernet: { mlpRatio: 4, numHeads: 4, embedDim: 128, depth: 4 },
  searchSpace: { mlpRatio: [3, 3.5, 4], numHeads: [2, 4], depth: [2, 3, 4], embedDim: [96, 128] },
  source: "test configuration",
};

const SPACES: SearchSpace[] = [
  createNb201Space(),
  createOfaMbv3Space(),
  createSposSpace(),
  createAutoFormerSpace(AUTOFORMER_CONFIG),
];

for (const space of SPACES) {
  describe(`generator schema of ${space.name}`, () => {
    let jsonSchemaRequest: RequestBody;
    let toolRequest: RequestBody;

    before(async () => {
      jsonSchemaRequest = await capturedRequest(space.candidateSchema, "auto");
      toolRequest = await capturedRequest(space.candidateSchema, "tool");
    });

    test("auto mode sends json_schema", () => {
      assert.equal(jsonSchemaRequest.response_format?.type, "json_schema");
      assert.equal(jsonSchemaRequest.response_format.json_schema.name, GENERATOR_OUTPUT_NAME);
    });

    test("json_schema sets strict", () => {
      assert.equal(jsonSchemaRequest.response_format.json_schema.strict, true);
    });

    test("json_schema root is an object", () => {
      const schema = jsonSchemaRequest.response_format.json_schema.schema;
      assert.deepEqual(violationsOf(schema, "root-object"), []);
    });

    test("json_schema objects are closed", () => {
      const schema = jsonSchemaRequest.response_format.json_schema.schema;
      assert.deepEqual(violationsOf(schema, "additional-properties"), []);
    });

    test("json_schema requires every property", () => {
      const schema = jsonSchemaRequest.response_format.json_schema.schema;
      assert.deepEqual(violationsOf(schema, "required"), []);
    });

    test("json_schema lists candidates", () => {
      const schema = jsonSchemaRequest.response_format.json_schema.schema;
      assert.equal(schema.properties.candidates.type, "array");
    });

    test("tool mode sets strict", () => {
      assert.equal(toolRequest.tools[0].function.name, GENERATOR_OUTPUT_NAME);
      assert.equal(toolRequest.tools[0].function.strict, true);
    });

    test("tool parameters are strict", () => {
      assert.deepEqual(strictSchemaViolations(toolRequest.tools[0].function.parameters), []);
    });
  });
}

describe("strict schema checker", () => {
  test("flags an optional field", () => {
    const schema = z.toJSONSchema(z.object({ arch: z.string(), note: z.string().optional() }));
    assert.deepEqual(strictSchemaViolations(schema as Record<string, unknown>), [
      { rule: "required", path: "/properties/note" },
    ]);
  });

  test("flags an open nested object", () => {
    const schema = {
      type: "object",
      properties: {
        arch: { type: "object", properties: { ks: { type: "array" } }, required: ["ks"] },
      },
      required: ["arch"],
      additionalProperties: false,
    };
    assert.deepEqual(strictSchemaViolations(schema), [
      { rule: "additional-properties", path: "/properties/arch" },
    ]);
  });

  test("flags an array root", () => {
    const schema = z.toJSONSchema(z.array(z.object({ arch: z.string() })));
    assert.deepEqual(violationsOf(schema as Record<string, unknown>, "root-object"), [
      { rule: "root-object", path: "" },
    ]);
  });
});
