// Seed example: Get all projects (GET /api/v2/cases/projects).
// Changed from the seed: CommonJS instead of TypeScript; the package is the `dd-old` alias
// (@datadog/datadog-api-client 1.45.0); the configuration points at casebook (DD_BASE_URL);
// placeholders read from the environment; a failure sets a non-zero exit code.
// Keys come from DD_API_KEY / DD_APP_KEY, which createConfiguration reads, as in the seed.
const { client, v2 } = require("dd-old");

const configuration = client.createConfiguration({
  baseServer: new client.BaseServerConfiguration(process.env.DD_BASE_URL, {}),
});
const apiInstance = new v2.CaseManagementApi(configuration);

apiInstance
  .getProjects()
  .then((data) => {
    console.log(
      "API called successfully. Returned data: " + JSON.stringify(data)
    );
  })
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
