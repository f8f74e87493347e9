// Starts s3rver on a free loopback port with one bucket; prints the port.
// Usage: node s3rver.cjs <data dir> <bucket>
const S3rver = require("@20minutes/s3rver");
const [directory, bucket] = process.argv.slice(2);
new S3rver({
  address: "127.0.0.1",
  port: 0,
  directory,
  silent: true,
  configureBuckets: [{ name: bucket }],
}).run().then(
  ({ port }) => console.log(`s3rver listening on 127.0.0.1:${port}`),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
