package flatparquet

// SetMaxPage lowers the largest page a Writer writes, so that a test can
// reach the format's limit without gigabytes of rows; restore puts it back.
func SetMaxPage(n int) (restore func()) {
	old := maxPage
	maxPage = n
	return func() { maxPage = old }
}
