// Package parquetio reads and writes typed Parquet files with the options
// every pandas and pyarrow reader accepts, and checks a file's columns
// against the Go type before it trusts a single row.
//
// Reading is columnar: Open and Decode read only the columns of the row
// type, a page at a time, straight into the rows' fields (parquet-go's page
// API: one string allocation per page, not per value). Before the Parquet
// library sees a size a file states (the footer's, each page header's, the
// run lengths inside a page), the reader checks it against the bytes there
// are and against MaxPageSize and MaxPageValues, so that a corrupt or
// hostile file gets ErrMalformed instead of a multi-gigabyte allocation.
package parquetio
