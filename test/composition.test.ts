import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { AIMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import {
  CachedEvaluator,
  createEvaluateTool,
  createNb201Space,
  createSearchArchitecturesTool,
  createSearchGraph,
  SearchState,
  TableEvaluator,
} from "../src/index.ts";
import { NB201_CSV, nb201Skip } from "./helpers/data.ts";
import { ScriptedToolCallingModel } from "./helpers/scripted-model.ts";

const space = createNb201Space();
const BEST_C10 =
  "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|";

describe("composition", { skip: nb201Skip }, () => {
  let table: TableEvaluator;
  before(async () => {
    table = await TableEvaluator.load({ path: NB201_CSV, metric: "cifar10_test_acc" });
  });

  test("search runs as a subgraph", async () => {
    const search = createSearchGraph({
      runtime: { space, evaluator: new CachedEvaluator(table) },
    });
    const Parent = Annotation.Root({
      ...SearchState.spec,
      /** Written by the parent after the search. */
      summary: Annotation<string>(),
    });
    const parent = new StateGraph(Parent)
      .addNode("plan", () => ({
        task: {
          space: "nb201",
          objective: "maximize accuracy",
          budget: 30,
          candidatesPerRound: 10,
          target: null,
          maxRounds: null,
          constraints: "",
          maxGeneratorRetries: 2,
          seed: 4,
        },
      }))
      .addNode("search", search)
      .addNode("summarize", (state) => ({
        summary: `best ${state.best?.accuracy.toFixed(2)} after ${state.history.length}`,
      }))
      .addEdge(START, "plan")
      .addEdge("plan", "search")
      .addEdge("search", "summarize")
      .addEdge("summarize", END)
      .compile();
    const final = await parent.invoke({}, { recursionLimit: 500 });
    assert.equal(final.history.length, 30);
    assert.match(final.summary, /^best \d+\.\d\d after 30$/);
  });

  test("agent calls the search tool", async () => {
    const searchTool = createSearchArchitecturesTool({
      space,
      evaluator: new CachedEvaluator(table),
    });
    const model = new ScriptedToolCallingModel([
      new AIMessage({
        content: "",
        tool_calls: [
          { id: "call-1", name: "search_architectures", args: { budget: 40, target: null, seed: 1 } },
        ],
      }),
      new AIMessage("The search is done."),
    ]);
    const agent = createReactAgent({ llm: model, tools: [searchTool] });
    const final = await agent.invoke({ messages: [new HumanMessage("Find a good cell.")] });
    const toolMessage = final.messages.find((m) => ToolMessage.isInstance(m));
    assert.ok(toolMessage, "no tool message");
    const payload = JSON.parse(String(toolMessage.content));
    assert.equal(payload.evaluations, 40);
    assert.ok(payload.best.accuracy > 93);
    assert.ok(space.parse(payload.best.arch).ok);
    assert.equal(String(final.messages.at(-1)!.content), "The search is done.");
  });

  test("agent tool rejects a budget above the maximum", async () => {
    const searchTool = createSearchArchitecturesTool({
      space,
      evaluator: new CachedEvaluator(table),
      maxBudget: 50,
    });
    await assert.rejects(searchTool.invoke({ budget: 500, target: null, seed: null }));
  });

  test("evaluation tool works on its own", async () => {
    const evaluate = createEvaluateTool(async () => ({ space, evaluator: table }));
    const message = await evaluate.invoke({
      type: "tool_call",
      id: "t1",
      name: "evaluate_architectures",
      args: { architectures: [BEST_C10, "|bogus~0|"] },
    });
    const summary = JSON.parse(String(message.content));
    assert.equal(summary[0].accuracy.toFixed(2), "94.37");
    assert.equal(summary[0].flopsM, 153.273);
    assert.match(summary[1].error, /invalid cell/);
  });
});
