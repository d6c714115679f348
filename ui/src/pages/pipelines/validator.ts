// A react-jsonschema-form validator that works under the server's CSP (no 'unsafe-eval').
//
// rjsf's own validator (@rjsf/validator-ajv8) compiles every schema into JavaScript with
// `new Function`, which `script-src 'self'` forbids; its "precompiled" mode needs the schemas
// at build time, and a pipeline's schema only arrives at run time. @cfworker/json-schema
// interprets the schema instead (it was written for Cloudflare Workers, where eval is not
// allowed either; drafts 4 to 2020-12). This adapter turns its output into rjsf's errors.
// The server checks the params again (Python jsonschema, RE2 patterns) before any launch.
import { type OutputUnit, Validator } from "@cfworker/json-schema";
import {
  type CustomValidator,
  type ErrorTransformer,
  type RJSFSchema,
  type RJSFValidationError,
  type UiSchema,
  type ValidationData,
  type ValidatorType,
  createErrorHandler,
  getDefaultFormState,
  toErrorSchema,
  unwrapErrorHandler,
  validationDataMerge,
} from "@rjsf/utils";

/** Keywords whose errors only say that something inside failed: the inner error says what. */
const WRAPPERS = new Set([
  "properties", "items", "prefixItems", "allOf", "anyOf", "oneOf", "$ref", "$recursiveRef",
  "if", "then", "else", "dependentSchemas", "unevaluatedProperties", "unevaluatedItems",
  "additionalItems", "contains", "not", "patternProperties", "propertyNames",
]);

/** "#/group/param" -> ".group.param" (rjsf's property paths). */
export function propertyPath(instanceLocation: string): string {
  const parts = instanceLocation
    .replace(/^#/, "")
    .split("/")
    .filter(Boolean)
    .map((p) => decodeURIComponent(p).replace(/~1/g, "/").replace(/~0/g, "~"));
  return parts.length ? `.${parts.join(".")}` : "";
}

const TYPE_WORDS: Record<string, string> = {
  integer: "a whole number",
  number: "a number",
  string: "text",
  boolean: "true or false",
  object: "an object",
  array: "a list",
};

const REQUIRED = /required property "([^"]+)"/;

/** One message a scientist can read, for one failed check. */
function message(unit: OutputUnit, schemaAt: (path: string) => Record<string, unknown> | undefined): string {
  const own = schemaAt(unit.keywordLocation.replace(/\/[^/]+$/, ""));
  if (own && typeof own.errorMessage === "string") return own.errorMessage;
  switch (unit.keyword) {
    case "required":
      return "is required";
    case "type":
      return `must be ${TYPE_WORDS[String(own?.type)] ?? "of another type"}`;
    case "minimum":
      return `must be at least ${String(own?.minimum)}`;
    case "maximum":
      return `must be at most ${String(own?.maximum)}`;
    case "exclusiveMinimum":
      return `must be more than ${String(own?.exclusiveMinimum)}`;
    case "exclusiveMaximum":
      return `must be less than ${String(own?.exclusiveMaximum)}`;
    case "minLength":
      return `must be at least ${String(own?.minLength)} characters`;
    case "maxLength":
      return `must be at most ${String(own?.maxLength)} characters`;
    case "pattern":
      return `must match the pattern ${String(own?.pattern)}`;
    case "enum":
      return `must be one of: ${((own?.enum as unknown[]) ?? []).map(String).join(", ")}`;
    case "format":
      return `must be a valid ${String(own?.format)}`;
    case "multipleOf":
      return `must be a multiple of ${String(own?.multipleOf)}`;
    case "additionalProperties":
      return "is not a param of this pipeline";
    default:
      return unit.error;
  }
}

function pointer(schema: unknown, path: string): Record<string, unknown> | undefined {
  let node: unknown = schema;
  for (const raw of path.replace(/^#/, "").split("/").filter(Boolean)) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node && typeof node === "object" ? (node as Record<string, unknown>) : undefined;
}

/** cfworker's output units -> rjsf's validation errors (one per failed leaf check). */
export function toValidationErrors(units: OutputUnit[], schema: RJSFSchema): RJSFValidationError[] {
  const leaves = units.filter((u) => !WRAPPERS.has(u.keyword));
  const chosen = leaves.length ? leaves : units;
  const seen = new Set<string>();
  const errors: RJSFValidationError[] = [];
  for (const unit of chosen) {
    let property = propertyPath(unit.instanceLocation);
    let text: string;
    const missing = unit.keyword === "required" ? REQUIRED.exec(unit.error)?.[1] : undefined;
    if (missing !== undefined) {
      property = `${property}.${missing}`;
      const own = pointer(schema, `${unit.keywordLocation.replace(/\/required$/, "")}/properties/${missing}`);
      text = typeof own?.errorMessage === "string" ? own.errorMessage : "is required";
    } else {
      text = message(unit, (path) => pointer(schema, path));
    }
    const key = `${property}\u0000${text}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const name = property.split(".").filter(Boolean).pop() ?? "";
    errors.push({
      name: unit.keyword,
      property,
      message: text,
      stack: name ? `${name}: ${text}` : text,
      schemaPath: unit.keywordLocation,
      title: name,
    });
  }
  return errors;
}

export class CspSafeValidator<T = unknown> implements ValidatorType<T, RJSFSchema> {
  private cache = new WeakMap<object, Validator>();

  private validatorFor(schema: RJSFSchema): Validator {
    let found = this.cache.get(schema);
    if (!found) {
      found = new Validator(schema as never, "2020-12", false);
      this.cache.set(schema, found);
    }
    return found;
  }

  rawValidation<Result = OutputUnit>(schema: RJSFSchema, formData?: T): { errors?: Result[]; validationError?: Error } {
    try {
      const result = this.validatorFor(schema).validate(formData === undefined ? {} : formData);
      return { errors: result.errors as unknown as Result[] };
    } catch (e) {
      return { validationError: e instanceof Error ? e : new Error(String(e)) };
    }
  }

  validateFormData(
    formData: T | undefined,
    schema: RJSFSchema,
    customValidate?: CustomValidator<T, RJSFSchema>,
    transformErrors?: ErrorTransformer<T, RJSFSchema>,
    uiSchema?: UiSchema<T, RJSFSchema>,
  ): ValidationData<T> {
    const raw = this.rawValidation<OutputUnit>(schema, formData);
    let errors = toValidationErrors(raw.errors ?? [], schema);
    if (raw.validationError) errors.push({ stack: `The form's schema cannot be checked: ${raw.validationError.message}` });
    if (transformErrors) errors = transformErrors(errors, uiSchema);
    const errorSchema = toErrorSchema<T>(errors);
    if (!customValidate) return { errors, errorSchema };
    const data = getDefaultFormState<T, RJSFSchema>(this, schema, formData, schema, true) as T;
    const handler = customValidate(data, createErrorHandler<T>(data), uiSchema, errorSchema);
    return validationDataMerge<T>({ errors, errorSchema }, unwrapErrorHandler<T>(handler));
  }

  isValid(schema: RJSFSchema, formData: T | undefined, rootSchema: RJSFSchema): boolean {
    // Sub-schemas may $ref the root's definitions: validate with them alongside.
    const withDefs: RJSFSchema = { ...schema };
    if (rootSchema.$defs && !schema.$defs) withDefs.$defs = rootSchema.$defs;
    if (rootSchema.definitions && !schema.definitions) withDefs.definitions = rootSchema.definitions;
    const raw = this.rawValidation<OutputUnit>(withDefs, formData);
    return !raw.validationError && (raw.errors ?? []).length === 0;
  }

  reset(): void {
    this.cache = new WeakMap();
  }
}

export const cspSafeValidator = new CspSafeValidator<Record<string, unknown>>();
