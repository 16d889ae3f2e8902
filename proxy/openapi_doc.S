/*
 * openapi_doc.S
 *	  proxy/openapi.json, the API's description, built into the binary as
 *	  one NUL-terminated string (openapi_document), so what GET
 *	  /openapi.json serves is always the file of the same commit.
 */
	.section .rodata
	.global openapi_document
	.type openapi_document, @object
openapi_document:
	.incbin "openapi.json"
	.byte 0
	.size openapi_document, . - openapi_document
	.section .note.GNU-stack, "", @progbits
