// Package crashes loads the City of Chicago's "Traffic Crashes - Crashes"
// dataset (Socrata id 85ca-t3if) and aggregates it to the accident table:
// crashes and injury crashes per police district and month.
//
// It reads the CSV as the Socrata API serves it (lower-case columns, ISO
// timestamps) and as the portal's export writes it (upper-case columns,
// "01/02/2006 03:04:05 PM" timestamps), streaming, so a full download of
// several hundred thousand rows never sits in memory.
package crashes
