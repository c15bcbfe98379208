package glm

import (
	"encoding/binary"
	"math"
	"os"
	"testing"
	"time"
)

func loadNpy(path string) []float64 {
	data, _ := os.ReadFile(path)
	start := 10 + int(binary.LittleEndian.Uint16(data[8:10]))
	body := data[start:]
	out := make([]float64, len(body)/8)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(body[i*8:]))
	}
	return out
}

func TestZZDecrements(t *testing.T) {
	dir := "/work/main/benchmarks/results/tmp/fit-1000000/"
	x, y := loadNpy(dir+"train_x.npy"), loadNpy(dir+"train_y.npy")
	st := time.Now()
	fit, err := FitLogistic(x, y, 17, Options{L2: 1})
	t.Log(err, fit.Iterations, fit.GradNorm, time.Since(st))
}
