"""Message content: codecs, multipart, forms."""
