import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { EvaluatorInputError } from "./errors.ts";

/** A file that is not a readable `.npy` array of a supported type. */
export class NpyFormatError extends EvaluatorInputError {
  override name = "NpyFormatError";
}

/** Element types read from `.npy` files, named as onnxruntime names them. */
export type NpyDtype = "uint8" | "float32" | "int64";

/** A C-order array read from a `.npy` file. */
export type NpyArray =
  | { dtype: "uint8"; shape: number[]; data: Uint8Array }
  | { dtype: "float32"; shape: number[]; data: Float32Array }
  | { dtype: "int64"; shape: number[]; data: BigInt64Array };

/** NumPy `descr` strings accepted, little-endian or byte-sized only. */
const DESCR_TO_DTYPE: Record<string, NpyDtype> = {
  "|u1": "uint8",
  "<u1": "uint8",
  "<f4": "float32",
  "<i8": "int64",
};

const ITEM_SIZE: Record<NpyDtype, number> = { uint8: 1, float32: 4, int64: 8 };

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

/**
 * Reads a `.npy` file, or a gzip-compressed one (detected by its magic
 * bytes, whatever the extension). Supports little-endian uint8, float32 and
 * int64 arrays in C order, format versions 1 to 3.
 *
 * @throws NpyFormatError naming the file when it cannot be read as such
 */
export async function readNpy(path: string): Promise<NpyArray> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new NpyFormatError(
      `failed to read ${path}: ${(error as Error).message}`,
    );
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw new NpyFormatError(
        `${path} is not a valid gzip file: ${(error as Error).message}`,
      );
    }
  }
  return parseNpy(bytes, path);
}

/**
 * Parses the bytes of an uncompressed `.npy` file. `source` names the file
 * in error messages.
 */
export function parseNpy(bytes: Buffer, source: string): NpyArray {
  const fail = (reason: string): never => {
    throw new NpyFormatError(`${source} is not a valid .npy file: ${reason}`);
  };
  if (bytes.length < 10 || !bytes.subarray(0, 6).equals(MAGIC)) {
    fail("missing the \\x93NUMPY magic bytes");
  }
  const major = bytes[6];
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = bytes.readUInt16LE(8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail("truncated header");
    headerLength = bytes.readUInt32LE(8);
    headerStart = 12;
  } else {
    return fail(`unsupported format version ${major}`);
  }
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) fail("truncated header");
  const header = bytes
    .subarray(headerStart, dataStart)
    .toString(major === 3 ? "utf8" : "latin1");

  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    return fail(`unreadable header ${JSON.stringify(header.trim())}`);
  }
  const dtype = DESCR_TO_DTYPE[descr];
  if (!dtype) {
    return fail(
      `unsupported dtype '${descr}'; expected one of ` +
        `${Object.keys(DESCR_TO_DTYPE).join(", ")} (little-endian)`,
    );
  }
  if (fortran === "True") {
    fail(
      "Fortran-order arrays are not supported; save with np.ascontiguousarray",
    );
  }
  const shape = shapeText
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .map((part) => Number(part.replace(/L$/, "")));
  if (shape.some((dim) => !Number.isSafeInteger(dim) || dim < 0)) {
    fail(`invalid shape (${shapeText})`);
  }
  const count = shape.reduce((product, dim) => product * dim, 1);
  const byteLength = count * ITEM_SIZE[dtype];
  if (bytes.length - dataStart !== byteLength) {
    fail(
      `shape [${shape.join(", ")}] of ${dtype} needs ${byteLength} data ` +
        `bytes, found ${bytes.length - dataStart}`,
    );
  }

  // Copy into a fresh buffer: the data offset in the file need not be
  // aligned for a Float32Array or BigInt64Array view. Typed arrays use the
  // host byte order, which is little-endian on every platform that
  // onnxruntime-node ships binaries for.
  const data = new Uint8Array(byteLength);
  data.set(bytes.subarray(dataStart, dataStart + byteLength));
  switch (dtype) {
    case "uint8":
      return { dtype, shape, data };
    case "float32":
      return { dtype, shape, data: new Float32Array(data.buffer) };
    case "int64":
      return { dtype, shape, data: new BigInt64Array(data.buffer) };
  }
}
