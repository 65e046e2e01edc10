"""Tests of the supernet's ONNX export on a tiny supernet.

Run from the repository root with Debian's interpreter:

    /usr/bin/python3 -m unittest discover -s supernet -p "test_*.py"

Skipped where torch or onnx is missing. The comparison of ONNX and torch
outputs needs the onnxruntime Python package and is skipped without it.
test/onnx-supernet.test.ts checks the same agreement through
onnxruntime-node on the bundled model.
"""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

try:
    import onnx
    import torch

    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False

try:
    import onnxruntime

    HAVE_ORT = True
except ImportError:
    HAVE_ORT = False

ARCHS = [
    [3, 3, 3, 3, 3, 3],
    [3, 1, 4, 2, 1, 3],
    [2, 0, 3, 0, 4, 1],
    [0, 0, 0, 0, 0, 0],
]


@unittest.skipUnless(HAVE_TORCH, "needs torch and onnx (python3-torch, python3-onnx)")
class ExportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        from export_onnx import export_subnet, export_supernet
        from nb201_supernet import Nb201Supernet

        torch.manual_seed(0)
        cls.model = Nb201Supernet(channels=4, cells_per_stage=1).eval()
        # Distinct weights everywhere, as after training, so that no two
        # initializers are equal.
        with torch.no_grad():
            for param in cls.model.parameters():
                param.add_(torch.randn_like(param) * 0.1)
        cls.dir = tempfile.TemporaryDirectory()
        cls.path = os.path.join(cls.dir.name, "supernet.onnx")
        cls.onnx = export_supernet(cls.model, cls.path, (1, 28, 28), 6, metadata={"space": "nb201"})
        cls.subnet_path = os.path.join(cls.dir.name, "subnet.onnx")
        cls.subnet = export_subnet(cls.model, cls.subnet_path, (1, 28, 28), ARCHS[1])

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def test_supernet_has_if_nodes(self):
        from export_onnx import count_ops

        counts = count_ops(self.onnx)
        # One top-level If per edge of each of the three cells, plus the
        # nested ones of each edge's if-elif chain.
        top_level = sum(1 for node in self.onnx.graph.node if node.op_type == "If")
        self.assertEqual(top_level, 3 * 6)
        self.assertGreater(counts["If"], top_level)

    def test_inputs_and_outputs(self):
        from export_onnx import describe_io

        inputs, outputs = describe_io(self.onnx)
        self.assertEqual(inputs[0], ("images", onnx.TensorProto.FLOAT, ["batch", 1, 28, 28]))
        self.assertEqual(inputs[1], ("arch", onnx.TensorProto.INT64, [6]))
        self.assertEqual(outputs, [("logits", onnx.TensorProto.FLOAT, ["batch", 10])])

    def test_metadata_is_stored(self):
        props = {entry.key: entry.value for entry in self.onnx.metadata_props}
        self.assertEqual(props["space"], "nb201")

    def test_no_initializer_identities(self):
        initializers = {tensor.name for tensor in self.onnx.graph.initializer}
        copies = [
            node.name
            for node in self.onnx.graph.node
            if node.op_type == "Identity" and node.input[0] in initializers
        ]
        self.assertEqual(copies, [])

    def test_branch_weights_live_in_branches(self):
        # Only weights outside the cells stay in the main graph: stem,
        # reduction blocks, head norm and classifier.
        names = [tensor.name for tensor in self.onnx.graph.initializer]
        self.assertFalse([name for name in names if ".e1_0." in name or ".e3_2." in name])

    def test_weights_load_back_from_onnx(self):
        from export_onnx import load_weights_from_onnx
        from nb201_supernet import Nb201Supernet

        rebuilt = load_weights_from_onnx(Nb201Supernet(channels=4, cells_per_stage=1), self.path)
        for key, value in self.model.state_dict().items():
            self.assertTrue(torch.equal(rebuilt.state_dict()[key], value), key)

    def test_saved_file_passes_checker(self):
        onnx.checker.check_model(onnx.load(self.path))

    def test_scripted_matches_eager(self):
        from nb201_supernet import arch_tensor

        scripted = torch.jit.script(self.model)
        images = torch.randn(8, 1, 28, 28)
        for arch in ARCHS:
            with torch.no_grad():
                eager = self.model(images, arch_tensor(arch))
                script = scripted(images, arch_tensor(arch))
            self.assertTrue(torch.allclose(eager, script, atol=1e-5), f"arch {arch}")

    def test_subnet_has_no_branches(self):
        from export_onnx import count_ops, describe_io

        self.assertNotIn("If", count_ops(self.subnet))
        inputs, _ = describe_io(self.subnet)
        self.assertEqual([name for name, _, _ in inputs], ["images"])

    def test_none_cell_gives_constant_logits(self):
        # With every edge none, each cell outputs zeros, so all images get
        # the same logits.
        from nb201_supernet import arch_tensor

        with torch.no_grad():
            logits = self.model(torch.randn(4, 1, 28, 28), arch_tensor(ARCHS[3]))
        self.assertTrue(torch.allclose(logits, logits[:1].expand_as(logits), atol=1e-5))

    @unittest.skipUnless(HAVE_ORT, "needs the onnxruntime Python package")
    def test_onnxruntime_matches_torch(self):
        from nb201_supernet import arch_tensor

        session = onnxruntime.InferenceSession(self.path, providers=["CPUExecutionProvider"])
        images = torch.randn(8, 1, 28, 28)
        for arch in ARCHS:
            with torch.no_grad():
                expected = self.model(images, arch_tensor(arch)).numpy()
            (actual,) = session.run(None, {"images": images.numpy(), "arch": arch_tensor(arch).numpy()})
            self.assertLess(abs(actual - expected).max(), 1e-4, f"arch {arch}")


if __name__ == "__main__":
    unittest.main()
