// The newest @datadog/datadog-api-client (the `dd-new` alias) against casebook: create a
// project and cases (the client sends `type_id`), get a case by UUID and by key, search, and
// page through the search with the client's own paginator. Prints one JSON line of results.
//
// Environment: DD_BASE_URL, DD_API_KEY, DD_APP_KEY, USER_DATA_ID.
const { client, v2 } = require("dd-new");

const STANDARD = "00000000-0000-0000-0000-000000000001";

const configuration = client.createConfiguration({
  baseServer: new client.BaseServerConfiguration(process.env.DD_BASE_URL, {}),
  authMethods: {
    apiKeyAuth: process.env.DD_API_KEY,
    appKeyAuth: process.env.DD_APP_KEY,
  },
  httpConfig: { signal: AbortSignal.timeout(60000) },
});
const apiInstance = new v2.CaseManagementApi(configuration);

// Fail if the client's models could not read part of a response (unknown enum, wrong type).
function parsed(value, path = "response") {
  // UnparsedObject (not exported) wraps what the models could not read.
  if (value && value.constructor && value.constructor.name === "UnparsedObject") {
    throw new Error(`${path}: the client could not parse ${JSON.stringify(value)}`);
  }
  if (value && typeof value === "object") {
    if (value._unparsed) {
      throw new Error(`${path}: the client could not parse ${JSON.stringify(value)}`);
    }
    for (const [key, item] of Object.entries(value)) {
      parsed(item, `${path}.${key}`);
    }
  }
  return value;
}

function check(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
}

async function createCase(projectId, title, assigneeId) {
  const relationships = {
    project: { data: { id: projectId, type: "project" } },
  };
  if (assigneeId) {
    relationships.assignee = { data: { id: assigneeId, type: "user" } };
  }
  const response = await apiInstance.createCase({
    body: {
      data: {
        attributes: { title, typeId: STANDARD, priority: "P2" },
        relationships,
        type: "case",
      },
    },
  });
  return parsed(response).data;
}

async function main() {
  const project = parsed(
    await apiInstance.createProject({
      body: { data: { attributes: { key: "NEW", name: "Newest client" }, type: "project" } },
    })
  ).data;

  const created = await createCase(project.id, "Created by the newest client", process.env.USER_DATA_ID);
  check(created.attributes.typeId === STANDARD, `typeId: ${created.attributes.typeId}`);

  const byId = parsed(await apiInstance.getCase({ caseId: created.id })).data;
  const byKey = parsed(await apiInstance.getCase({ caseId: created.attributes.key })).data;
  check(byId.id === created.id && byKey.id === created.id, "get by id / key returned another case");

  for (let i = 2; i <= 5; i++) {
    await createCase(project.id, `Paging case ${i}`);
  }
  const search = parsed(await apiInstance.searchCases({ pageSize: 100 }));

  const paged = [];
  for await (const item of apiInstance.searchCasesWithPagination({ pageSize: 2 })) {
    paged.push(parsed(item).id);
  }

  console.log(
    JSON.stringify({
      project_key: project.attributes.key,
      case_id: created.id,
      case_key: created.attributes.key,
      status: byKey.attributes.status,
      priority: byKey.attributes.priority,
      title: byId.attributes.title,
      type_id: byId.attributes.typeId,
      assignee_id: byId.relationships.assignee?.data?.id ?? null,
      created_at_is_date: byId.attributes.createdAt instanceof Date,
      search_ids: search.data.map((c) => c.id),
      search_meta_page: search.meta.page,
      paged_ids: paged,
    })
  );
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
