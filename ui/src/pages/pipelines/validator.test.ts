import { describe, expect, it } from "vitest";
import type { RJSFSchema } from "@rjsf/utils";
import { CspSafeValidator, propertyPath } from "./validator";

const SCHEMA: RJSFSchema = {
  type: "object",
  properties: {
    alignment: {
      type: "object",
      title: "Alignment",
      required: ["genome"],
      properties: {
        genome: { type: "string", title: "genome" },
        min_reads: { type: "integer", minimum: 1 },
        aligner: { type: "string", enum: ["star", "hisat2"] },
        prefix: { type: "string", pattern: "^[a-z]+$", errorMessage: "lower-case letters only" } as RJSFSchema,
      },
    },
  },
};

describe("CspSafeValidator", () => {
  const validator = new CspSafeValidator<Record<string, unknown>>();

  it("passes valid data", () => {
    const result = validator.validateFormData({ alignment: { genome: "GRCh38", min_reads: 3 } }, SCHEMA);
    expect(result.errors).toEqual([]);
    expect(validator.isValid(SCHEMA, { alignment: { genome: "x" } }, SCHEMA)).toBe(true);
  });

  it("names the field of each failed check, in words, under its path", () => {
    const result = validator.validateFormData({ alignment: { min_reads: 0, aligner: "bwa", prefix: "ABC" } }, SCHEMA);
    const byProperty = Object.fromEntries(result.errors.map((e) => [e.property, e.message]));
    expect(byProperty).toEqual({
      ".alignment.genome": "is required",
      ".alignment.min_reads": "must be at least 1",
      ".alignment.aligner": "must be one of: star, hisat2",
      ".alignment.prefix": "lower-case letters only",
    });
    const tree = result.errorSchema as unknown as Record<string, Record<string, { __errors: string[] }>>;
    expect(tree.alignment.min_reads.__errors).toEqual(["must be at least 1"]);
    expect(validator.isValid(SCHEMA, { alignment: {} }, SCHEMA)).toBe(false);
  });

  it("says when a value has the wrong type", () => {
    const result = validator.validateFormData({ alignment: { genome: "x", min_reads: 1.5 } }, SCHEMA);
    expect(result.errors.map((e) => e.message)).toEqual(["must be a whole number"]);
  });

  it("never compiles code (the CSP forbids eval)", () => {
    const original = globalThis.Function;
    const trap = function () {
      throw new Error("Function() called");
    } as unknown as FunctionConstructor;
    globalThis.Function = trap;
    try {
      expect(new CspSafeValidator().validateFormData({ alignment: {} }, SCHEMA).errors.length).toBe(1);
    } finally {
      globalThis.Function = original;
    }
  });

  it("turns JSON pointers into rjsf's paths", () => {
    expect(propertyPath("#/a/b~1c")).toBe(".a.b/c");
    expect(propertyPath("#")).toBe("");
  });
});
