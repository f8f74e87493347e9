/**
 * The four worked examples of the AWS documentation "Signature Calculations
 * for the Authorization Header: Transferring Payload in a Single Chunk"
 * (S3, SigV4): same request in, the recorded Authorization header out.
 */
import assert from "node:assert/strict";
import { sha256Hex, signRequest } from "../../src/backup/sigv4.ts";

const KEY = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  region: "us-east-1",
  service: "s3",
};
const NOW = Date.UTC(2013, 4, 24, 0, 0, 0);
const EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const CREDENTIAL = "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request";

Deno.test("SigV4 reproduces the AWS documentation's recorded signatures", async (t) => {
  await t.step("GET Object with a Range header", async () => {
    const headers = await signRequest({
      ...KEY,
      method: "GET",
      url: new URL("https://examplebucket.s3.amazonaws.com/test.txt"),
      headers: { Range: "bytes=0-9" },
      payloadHash: await sha256Hex(""),
      now: NOW,
    });
    assert.equal(
      headers.authorization,
      `AWS4-HMAC-SHA256 ${CREDENTIAL},SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41`,
    );
    assert.equal(headers["x-amz-date"], "20130524T000000Z");
    assert.equal(headers["x-amz-content-sha256"], EMPTY);
  });

  await t.step("PUT Object (a $ in the key, a signed payload)", async () => {
    const payload = new TextEncoder().encode("Welcome to Amazon S3.");
    const payloadHash = await sha256Hex(payload);
    assert.equal(payloadHash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    const headers = await signRequest({
      ...KEY,
      method: "PUT",
      url: new URL("https://examplebucket.s3.amazonaws.com/test$file.text"),
      headers: {
        Date: "Fri, 24 May 2013 00:00:00 GMT",
        "x-amz-storage-class": "REDUCED_REDUNDANCY",
      },
      payloadHash,
      now: NOW,
    });
    assert.equal(
      headers.authorization,
      `AWS4-HMAC-SHA256 ${CREDENTIAL},SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd`,
    );
  });

  await t.step("GET Bucket lifecycle (a query parameter without value)", async () => {
    const headers = await signRequest({
      ...KEY,
      method: "GET",
      url: new URL("https://examplebucket.s3.amazonaws.com/?lifecycle"),
      headers: {},
      payloadHash: EMPTY,
      now: NOW,
    });
    assert.equal(
      headers.authorization,
      `AWS4-HMAC-SHA256 ${CREDENTIAL},SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543`,
    );
  });

  await t.step("GET Bucket (list objects, query parameters sorted)", async () => {
    const headers = await signRequest({
      ...KEY,
      method: "GET",
      url: new URL("https://examplebucket.s3.amazonaws.com/?prefix=J&max-keys=2"),
      headers: {},
      payloadHash: EMPTY,
      now: NOW,
    });
    assert.equal(
      headers.authorization,
      `AWS4-HMAC-SHA256 ${CREDENTIAL},SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7`,
    );
  });
});
