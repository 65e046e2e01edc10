import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * NAS-Bench-201 table shipped beside the repository for tests and
 * benchmarks (not part of the package). Tests that need it skip when it
 * is absent.
 */
export const NB201_CSV = fileURLToPath(
  new URL("../../../shared/data/nb201/nb201.csv", import.meta.url),
);

export const nb201Skip = existsSync(NB201_CSV)
  ? false
  : `NAS-Bench-201 table not found at ${NB201_CSV}`;

/** AutoFormer-T supernet configuration beside the repository. */
export const AUTOFORMER_T_YAML = fileURLToPath(
  new URL("../../../shared/data/autoformer/supernet-T.yaml", import.meta.url),
);

export const autoformerSkip = existsSync(AUTOFORMER_T_YAML)
  ? false
  : `AutoFormer-T configuration not found at ${AUTOFORMER_T_YAML}`;

/** OFA's MobileNetV3 accuracy predictor in ONNX form, beside the repository. */
export const OFA_PREDICTOR_ONNX = fileURLToPath(
  new URL("../../../shared/data/ofa/ofa_mbv3_acc_predictor.onnx", import.meta.url),
);

export const ofaPredictorSkip = existsSync(OFA_PREDICTOR_ONNX)
  ? false
  : `OFA accuracy predictor not found at ${OFA_PREDICTOR_ONNX}`;
