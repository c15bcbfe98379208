//go:build azure

package blobstore

import _ "gocloud.dev/blob/azureblob" // azblob:// buckets
