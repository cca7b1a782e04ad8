package ops

import "testing"

// tfdeployOps are the op types tfdeploy registers (riga/tfdeploy,
// tfdeploy.py at c519c634, every Operation.factory name and types list:
// 130 names).
var tfdeployOps = []string{
	"Abs", "Acos", "Add", "AddN", "All", "Any", "ArgMax", "ArgMin", "Asin", "Atan", "AvgPool", "AvgPool3D",
	"Betainc", "BiasAdd", "Cast", "Ceil", "Cholesky", "Complex", "ConcatV2", "Conj", "Conv1D", "Conv2D",
	"Conv3D", "Cos", "Cross", "Diag", "DiagPart", "Digamma", "Div", "Elu", "Erf", "Erfc", "Exp", "ExpandDims",
	"FFT2D", "FFT3D", "Floor", "FloorDiv", "FloorMod", "IFFT2D", "IFFT3D", "Identity", "Igamma", "Igammac",
	"Imag", "Inv", "InvertPermutation", "Lgamma", "LinSpace", "ListDiff", "Log", "MatMul", "MatrixDeterminant",
	"MatrixDiagPart", "MatrixInverse", "MatrixSolve", "MatrixSolveLs", "MatrixTriangularSolve", "Max",
	"MaxPool", "MaxPool3D", "Maximum", "Mean", "Min", "Minimum", "Mod", "Mul", "Multiply", "Neg", "Negative",
	"Pack", "Pad", "Polygamma", "Pow", "Prod", "RandomShuffle", "RandomStandardNormal", "RandomUniform",
	"RandomUniformInt", "Range", "Rank", "Real", "RealDiv", "Relu", "Relu6", "Reshape", "ReverseSequence",
	"ReverseV2", "Round", "Rsqrt", "SegmentMax", "SegmentMean", "SegmentMin", "SegmentProd", "SegmentSum",
	"SelfAdjointEig", "SelfAdjointEigV2", "Shape", "Sigmoid", "Sign", "Sin", "Size", "Slice", "Softmax",
	"Softplus", "Softsign", "SparseSegmentMean", "SparseSegmentSqrtN", "SparseSegmentSum", "Split", "SplitV",
	"Sqrt", "Square", "SquaredDifference", "Squeeze", "StringToNumber", "Sub", "Subtract", "Sum", "Svd", "Tan",
	"Tanh", "Tile", "Transpose", "TruncatedNormal", "Unique", "Unpack", "UnsortedSegmentSum", "Where", "Zeta",
}

// tfdeployNotOps are tfdeploy names that are no TensorFlow op type, so a
// GraphDef never holds them: aliases tfdeploy accepts for Mul, Neg and
// Sub, and the Python-level tf.nn.conv1d, which TensorFlow builds from
// ExpandDims, Conv2D and Squeeze.
var tfdeployNotOps = map[string]string{
	"Multiply": "alias of Mul", "Negative": "alias of Neg", "Subtract": "alias of Sub",
	"Conv1D": "tf.nn.conv1d is ExpandDims + Conv2D + Squeeze in a graph",
}

// TestTfdeployOpParity checks that every TensorFlow op type tfdeploy
// runs has a kernel in the default registry.
func TestTfdeployOpParity(t *testing.T) {
	if len(tfdeployOps) != 130 {
		t.Fatalf("%d tfdeploy names, want 130", len(tfdeployOps))
	}
	for _, op := range tfdeployOps {
		if _, skip := tfdeployNotOps[op]; skip {
			continue
		}
		if _, ok := Default().Lookup(op); !ok {
			t.Errorf("tfdeploy op %s has no kernel", op)
		}
	}
	for op, why := range tfdeployNotOps {
		if _, ok := Default().Lookup(op); ok {
			t.Errorf("%s is registered, but it is no TensorFlow op type (%s)", op, why)
		}
	}
}
