// Package parquetio reads and writes typed Parquet files with the options
// every pandas and pyarrow reader accepts, and checks a file's columns
// against the Go type before it trusts a single row.
package parquetio
